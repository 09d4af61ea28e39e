// The migration dashboard: a page on the gateway's admin endpoints (so behind its access policy, and
// showing only what `admin.reveal` allows) that shows every route of `gw.routes()` as /migration
// reports it, with charts over time, live over server-sent events, and buttons that act through the
// gateway's audited admin write API (/migration/promote, /rollback, /rearm). Registered with core's
// addAdminEndpoint: the gateway itself needs no change and no dependency on this package.
import { createHash } from 'node:crypto';
import { type Channel, channel } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  type AdminView,
  type Exchange,
  type Gateway,
  HANDLED,
  lifecycleChannel,
  parseOptions,
  type Reply,
} from '@gatehousejs/core';
import { MIGRATION_SOURCE, type MigrationReport, type MigrationSource } from '@gatehousejs/routes';
import { DashboardBusy } from './errors.js';
import { type DashboardOptions, dashboardOptionsSchema } from './options.js';
import { Series, type SeriesPoint } from './series.js';

/** What a page receives: the routes, the audited history, the charts' points and which buttons work. */
export interface DashboardState {
  readonly at: string;
  readonly title: string;
  /** False until the gateway has a routes controller (`gw.routes()`): there is nothing to show yet. */
  readonly wired: boolean;
  /** Every route's `/migration` line (its latest differences shortened to 10). */
  readonly routes: readonly MigrationReport[];
  /** The audited changes, newest first (at most 50), when the gateway keeps them. */
  readonly history: readonly unknown[];
  readonly series: Readonly<Record<string, readonly SeriesPoint[]>>;
  /** The admin write endpoints the buttons use, when the gateway has them. */
  readonly actions: { readonly promote: boolean; readonly rollback: boolean; readonly rearm: boolean };
  readonly refreshMs: number;
  /** How often chart points are taken (a chart with one point spans one period on each side). */
  readonly sampleMs: number;
}

/** The dashboard added to a gateway. */
export interface Dashboard {
  /** The state a viewer with `view` would see now. */
  state(view: AdminView): DashboardState;
  /** Pages open now (event streams). */
  readonly clients: number;
}

/** What every viewer may see, for the charts (numbers only). */
const CLOSED_VIEW: AdminView = {
  filePaths: false,
  requestData: false,
  file: (path) => path.slice(path.lastIndexOf('/') + 1),
  redactFiles: (text) => text,
};

/** Changes worth showing at once rather than at the next refresh. */
const POKES = [
  'gatehouse:admin:audit',
  'gatehouse:routes:promote',
  'gatehouse:routes:demote',
  'gatehouse:routes:verdict',
  'gatehouse:routes:reload',
];

const require = createRequire(import.meta.url);

interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly etag: string;
}

function asset(file: string | URL, type: string): Asset {
  const body = readFileSync(file);
  return { type, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/** Headers every dashboard answer carries: nothing from elsewhere, nothing inline, never framed. */
const SECURITY = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** One open page. */
interface Client {
  readonly exchange: Exchange;
  readonly view: AdminView;
  last: string;
}

/**
 * Adds the dashboard to a gateway's admin endpoints: `GET {admin prefix}{path}` (the page), its
 * assets, `{path}/state` (the numbers as JSON) and `{path}/events` (server-sent events: `state` with
 * the same document each time it changed, at most every `refreshMs`, and at once after a promotion,
 * a rollback, a verdict or an audited change). Everything is behind the admin access policy.
 *
 * @throws ConfigError listing every problem in `options`
 * @example
 *   import { addDashboard } from '@gatehousejs/dashboard';
 *   app.use(gw.admin({ access: { peers: ['loopback'] } }));
 *   addDashboard(gw.core); // http://127.0.0.1:8080/dashboard
 */
export function addDashboard(core: Gateway, options: DashboardOptions = {}): Dashboard {
  const o = parseOptions(dashboardOptionsSchema, options, { name: 'dashboard' });
  const path = o.path ?? '/dashboard';
  const title = o.title ?? 'Gatehouse migration';
  const refreshMs = o.refreshMs ?? 1_000;
  const sampleMs = o.sampleMs ?? 5_000;
  const maxClients = o.maxClients ?? 16;
  const series = new Series(o.historyPoints ?? 360);
  const own = (file: string) => new URL(`../assets/${file}`, import.meta.url);
  const assets: Record<string, Asset> = {
    'app-js': asset(own('dashboard.js'), 'text/javascript; charset=utf-8'),
    'app-css': asset(own('dashboard.css'), 'text/css; charset=utf-8'),
    // uPlot (MIT, ~50 kB): a small, fast time-series chart, served from this package's dependency.
    'chart-js': asset(require.resolve('uplot/dist/uPlot.iife.min.js'), 'text/javascript; charset=utf-8'),
    'chart-css': asset(require.resolve('uplot/dist/uPlot.min.css'), 'text/css; charset=utf-8'),
  };
  const page = readFileSync(own('dashboard.html'), 'utf8')
    .replaceAll('{{TITLE}}', escapeHtml(title))
    .replaceAll('{{PATH}}', escapeHtml(path));

  const source = () => core.shared.get(MIGRATION_SOURCE) as MigrationSource | undefined;
  const has = (endpoint: string) => core.adminEndpoints.has(endpoint);
  const state = (view: AdminView): DashboardState => {
    const s = source();
    const routes = (s?.reports(view) ?? []).map((r) => ({ ...r, latest: r.latest.slice(0, 10) }));
    return {
      at: new Date().toISOString(),
      title,
      wired: s !== undefined,
      routes,
      history: (s?.history() ?? []).slice(0, 50),
      series: series.all(),
      actions: {
        promote: has('/migration/promote'),
        rollback: has('/migration/rollback'),
        rearm: has('/migration/rearm'),
      },
      refreshMs,
      sampleMs,
    };
  };

  // Chart points are taken whether or not a page is open, so one opened later has the history.
  const sampler = setInterval(() => {
    const s = source();
    if (s !== undefined) series.sample(s.reports(CLOSED_VIEW));
  }, sampleMs);
  sampler.unref();

  const clients = new Set<Client>();
  let ticker: NodeJS.Timeout | undefined;
  let keepAlive: NodeJS.Timeout | undefined;
  let poked: NodeJS.Timeout | undefined;
  const subscribed: Array<[Channel, (message: unknown) => void]> = [];
  const poke = () => {
    poked ??= setTimeout(() => {
      poked = undefined;
      push();
    }, 20);
  };

  /** Sends each open page the state when it changed since what that page last received. */
  const push = () => {
    // Pages with the same view share one document per push.
    const made = new Map<AdminView, string>();
    for (const client of clients) {
      let json = made.get(client.view);
      if (json === undefined) {
        json = JSON.stringify(state(client.view));
        made.set(client.view, json);
      }
      // `at` changes every time: compare without it.
      const body = json.slice(json.indexOf(',') + 1);
      if (body === client.last) continue;
      client.last = body;
      client.exchange.res.write(`event: state\ndata: ${json}\n\n`);
    }
  };

  const start = () => {
    ticker = setInterval(push, refreshMs);
    ticker.unref();
    keepAlive = setInterval(() => {
      for (const client of clients) client.exchange.res.write(': keep-alive\n\n');
    }, 15_000);
    keepAlive.unref();
    for (const name of POKES) {
      const ch = channel(name);
      ch.subscribe(poke);
      subscribed.push([ch, poke]);
    }
  };
  const stop = () => {
    clearInterval(ticker);
    clearInterval(keepAlive);
    clearTimeout(poked);
    ticker = keepAlive = poked = undefined;
    for (const [ch, fn] of subscribed.splice(0)) ch.unsubscribe(fn);
  };
  const drop = (client: Client) => {
    if (!clients.delete(client)) return;
    if (clients.size === 0) stop();
  };
  const endAll = () => {
    for (const client of [...clients]) {
      drop(client);
      client.exchange.res.end();
    }
  };

  // A draining gateway ends the streams at once, so they do not hold the server open until the deadline.
  const onLifecycle = (message: unknown) => {
    const { gateway, state: to } = message as { gateway: unknown; state: string };
    if (gateway === core && (to === 'draining' || to === 'closed')) endAll();
  };
  lifecycleChannel.subscribe(onLifecycle);
  core.onClose(() => {
    clearInterval(sampler);
    lifecycleChannel.unsubscribe(onLifecycle);
    endAll();
  });

  const serveAsset =
    (name: string) =>
    (exchange: Exchange): Reply => {
      const a = assets[name]!;
      const headers = { ...SECURITY, etag: a.etag, 'cache-control': 'no-cache' };
      if (exchange.header('if-none-match') === a.etag) return { status: 304, headers };
      return { status: 200, headers: { ...headers, 'content-type': a.type }, body: a.body };
    };

  core.addAdminEndpoint(path, (exchange) => {
    // Relative links work whether the page was asked for with a trailing slash or not.
    const raw = (exchange.req.url ?? '').split('?')[0]!;
    const base = raw.endsWith('/') ? '' : `${path.slice(path.lastIndexOf('/') + 1)}/`;
    return {
      status: 200,
      headers: { ...SECURITY, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
      body: page.replaceAll('{{BASE}}', base),
    };
  });
  for (const name of Object.keys(assets)) core.addAdminEndpoint(`${path}/${name}`, serveAsset(name));
  core.addAdminEndpoint(`${path}/state`, (_exchange, view) => ({
    status: 200,
    headers: { ...SECURITY, 'cache-control': 'no-store' },
    body: state(view) as unknown as object,
  }));
  core.addAdminEndpoint(`${path}/events`, (exchange, view) => {
    if (clients.size >= maxClients) {
      throw new DashboardBusy(`${maxClients} dashboard pages are open already (maxClients)`, {
        headers: { 'retry-after': '5' },
      });
    }
    const res = exchange.res;
    res.writeHead(200, {
      ...SECURITY,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // Proxies (nginx) must pass each event on as it comes.
      'x-accel-buffering': 'no',
    });
    const client: Client = { exchange, view, last: '' };
    if (clients.size === 0) start();
    clients.add(client);
    res.on('close', () => drop(client));
    res.write(`retry: 2000\n\n`);
    push();
    return HANDLED;
  });

  return {
    state,
    get clients() {
      return clients.size;
    },
  };
}
