// Tables for people: what the admin API answers, laid out with cli-table3 and coloured with
// picocolors (only on a terminal). `--json` skips all of this and prints the API's own JSON.
import Table from 'cli-table3';
import type pc from 'picocolors';

type Colors = ReturnType<typeof pc.createColors>;

/** A table without box-drawing noise; header in bold when colours are on. */
export function table(head: string[], rows: string[][], colors: Colors): string {
  const t = new Table({
    head: head.map((h) => colors.bold(h)),
    style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 2 },
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '',
    },
  });
  t.push(...rows);
  return `${t.toString().replace(/[ \t]+$/gm, '')}\n`;
}

const MODE_COLOR: Record<string, keyof Colors> = {
  local: 'dim',
  shadow: 'cyan',
  split: 'yellow',
  fallback: 'magenta',
  remote: 'green',
};

/** `split 25%`, coloured by how far along the migration is. */
export function mode(name: string, weight: number, colors: Colors): string {
  const text = name === 'split' ? `split ${trim(weight)}%` : name;
  const paint = colors[MODE_COLOR[name] ?? 'reset'] as (s: string) => string;
  return paint(text);
}

export const percent = (rate: number) => `${trim(Math.round(rate * 10_000) / 100)}%`;
export const ms = (value: number) => `${trim(Math.round(value * 10) / 10)} ms`;
const trim = (n: number) => String(Number.isInteger(n) ? n : Number(n.toFixed(2)));

interface RouteRow {
  name: string;
  path: string | string[];
  methods: string[] | null;
  service: string | null;
  mode: string;
  weight: number;
  table?: { mode: string; weight: number };
}

/** `gatehouse routes`: every route of every controller. */
export function routesTable(body: unknown, colors: Colors): string {
  const controllers =
    (
      body as {
        controllers?: {
          name: string;
          origin: string;
          rejection?: { problems: { path: string; message: string }[] };
          routes: RouteRow[];
        }[];
      }
    ).controllers ?? [];
  const rows = controllers.flatMap((c) =>
    c.routes.map((r) => [
      r.name,
      Array.isArray(r.path) ? r.path.join(', ') : r.path,
      r.methods === null ? colors.dim('any') : r.methods.join(','),
      r.service ?? colors.dim('—'),
      mode(r.mode, r.weight, colors),
      r.table === undefined || (r.table.mode === r.mode && r.table.weight === r.weight)
        ? colors.dim('as in table')
        : colors.yellow(`table: ${r.table.mode === 'split' ? `split ${r.table.weight}%` : r.table.mode}`),
    ]),
  );
  let out =
    rows.length === 0
      ? `${colors.dim('No routes.')}\n`
      : table(['ROUTE', 'PATH', 'METHODS', 'SERVICE', 'MODE', 'SET BY'], rows, colors);
  for (const c of controllers) {
    if (c.rejection !== undefined) {
      out += colors.red(`\nThe latest table from ${c.origin} was rejected; the one above is in force:\n`);
      for (const p of c.rejection.problems)
        out += colors.red(`  ${p.path === '' ? '' : `${p.path}: `}${p.message}\n`);
    }
  }
  return out;
}

interface Side {
  stage: { requests: number; errors: number; errorRate: number; latency: { p50Ms: number; p99Ms: number } };
}
interface MigrationRow {
  name: string;
  paths: string[];
  mode: string;
  weight: number;
  service?: string;
  since: string;
  share: { local: number; remote: number };
  local: Side;
  remote: Side;
  diff: {
    window: { compared: number; rate: number };
    stage: { compared: number; different: number; rate: number; fields: Record<string, number> };
  };
  gates: Record<string, unknown>;
  changes: {
    at: string;
    from: { mode: string; weight: number };
    to: { mode: string; weight: number };
    by: string;
    reason?: string;
  }[];
  contract?: { stage?: { checked?: number; violations?: number } };
}
interface HistoryEntry {
  at: string;
  action: string;
  route?: string;
  from?: { mode: string; weight: number };
  to?: { mode: string; weight: number };
  who: string;
  where?: { ip: string; userAgent?: string };
  reason?: string;
  detail?: Record<string, unknown>;
}

const side = (s: Side, colors: Colors) =>
  s.stage.requests === 0
    ? colors.dim('—')
    : `${s.stage.requests} req, ${s.stage.errorRate > 0 ? colors.red(percent(s.stage.errorRate)) : '0%'} err, p99 ${ms(s.stage.latency.p99Ms)}`;

/** `gatehouse migration`: every route's stage, traffic and evidence. */
export function migrationTable(body: unknown, colors: Colors): string {
  const routes = (body as { routes?: MigrationRow[] }).routes ?? [];
  if (routes.length === 0) return `${colors.dim('No routes.')}\n`;
  const rows = routes.map((r) => [
    r.name,
    mode(r.mode, r.weight, colors),
    `${percent(r.share.local)} / ${percent(r.share.remote)}`,
    side(r.local, colors),
    side(r.remote, colors),
    r.diff.stage.compared === 0
      ? colors.dim('—')
      : `${percent(r.diff.stage.rate)} of ${r.diff.stage.compared}`,
    since(r.since),
  ]);
  return table(['ROUTE', 'MODE', 'LOCAL/REMOTE', 'LOCAL', 'REMOTE', 'DIFFS', 'SINCE'], rows, colors);
}

/** `gatehouse migration ROUTE`: one route in detail, with its audited history. */
export function migrationDetail(body: unknown, route: string, colors: Colors): string | undefined {
  const routes = (body as { routes?: MigrationRow[] }).routes ?? [];
  const r = routes.find((x) => x.name === route);
  if (r === undefined) return undefined;
  const history = ((body as { history?: HistoryEntry[] }).history ?? []).filter((e) => e.route === route);
  const lines = [
    `${colors.bold(r.name)}  ${mode(r.mode, r.weight, colors)}  ${colors.dim(`since ${r.since} (${since(r.since)})`)}`,
    `  paths     ${r.paths.join(', ')}`,
    `  service   ${r.service ?? colors.dim('—')}`,
    `  share     local ${percent(r.share.local)}, remote ${percent(r.share.remote)}`,
    `  local     ${side(r.local, colors)}`,
    `  remote    ${side(r.remote, colors)}`,
    `  diffs     ${r.diff.stage.compared === 0 ? colors.dim('none compared') : `${r.diff.stage.different} of ${r.diff.stage.compared} (${percent(r.diff.stage.rate)})`}`,
  ];
  const fields = Object.entries(r.diff.stage.fields ?? {})
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5);
  if (fields.length > 0) lines.push(`  differ in ${fields.map(([f, n]) => `${f} (${n})`).join(', ')}`);
  const gates = Object.entries(r.gates ?? {}).filter(([, v]) => v !== undefined);
  if (gates.length > 0) lines.push(`  gates     ${gates.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  lines.push('', colors.bold('History'));
  if (history.length === 0) lines.push(colors.dim('  no changes recorded'));
  for (const e of history) lines.push(`  ${historyLine(e, colors)}`);
  return `${lines.join('\n')}\n`;
}

export function historyLine(e: HistoryEntry, colors: Colors): string {
  const move =
    e.from !== undefined && e.to !== undefined
      ? ` ${mode(e.from.mode, e.from.weight, colors)} → ${mode(e.to.mode, e.to.weight, colors)}`
      : '';
  const where = e.where === undefined ? '' : colors.dim(` from ${e.where.ip}`);
  const why = e.reason === undefined ? '' : ` — ${e.reason}`;
  return `${colors.dim(e.at)} ${e.action}${e.route === undefined ? '' : ` ${e.route}`}${move} by ${e.who}${where}${why}`;
}

function since(at: string): string {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(at)) / 1000));
  if (!Number.isFinite(seconds)) return at;
  if (seconds < 120) return `${seconds} s ago`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3_600)} h ago`;
  return `${Math.round(seconds / 86_400)} d ago`;
}
