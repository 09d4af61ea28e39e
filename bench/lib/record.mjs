// Appending results to bench/RESULTS.md.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const HEADER = `# Benchmark results

One row per benchmark run, appended by \`node bench/run.mjs\` (skip with \`--no-record\`). See
[README.md](README.md) for how to run them and what each one measures.

- **baseline rps / candidate rps**: the median requests per second over the rounds of that run; the
  baseline is the app without Gatehouse, the candidate the same app with it.
- **ratio**: candidate rps / baseline rps, both measured in the same run: the median over rounds of
  the ratio within each round (in the default concurrent mode both sides get load at the same moment,
  sharing one CPU), so it can differ slightly from the quotient of the two rps columns. 1.00 means no
  measurable cost; 0.95 means the candidate serves 5 % fewer requests per second.
- **target**: the lowest acceptable ratio for that benchmark; **pass** is ratio ≥ target.
- Absolute rps depend on the machine and whatever else ran on it; compare ratios, not rps, across rows.
  The \`self-check\` rows (the same server on both sides) show the noise floor of the machine.

`;

const COLUMNS = ['date', 'bench', 'node', 'baseline rps', 'candidate rps', 'ratio', 'target', 'pass'];
/** Right-aligned (numeric) columns. */
const RIGHT = new Set(['baseline rps', 'candidate rps', 'ratio', 'target']);

/**
 * Appends one row to the results table in `file` (creating the file with its header if needed) and
 * rewrites the table with aligned columns, the way the repository's formatter (Biome) lays out
 * Markdown tables, so that `npm run lint` stays clean after a run.
 * @param {string} file path of RESULTS.md
 * @param {{ bench: string, node: string, baseline: { rps: number }, candidate: { rps: number }, ratio: number, target: number, pass: boolean }} r
 */
export function recordResult(file, r) {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : HEADER;
  const lines = text.replace(/\n+$/, '').split('\n');
  const head = lines.findIndex((l) => /^\|\s*date\s*\|/.test(l));
  const before = head === -1 ? [...lines, ''] : lines.slice(0, head);
  let end = head === -1 ? lines.length : head;
  while (end < lines.length && lines[end].startsWith('|')) end++;
  const after = lines.slice(end);
  /** @type {string[][]} */
  const rows = head === -1 ? [] : lines.slice(head + 2, end).map(cells);
  rows.push([
    new Date().toISOString().slice(0, 10),
    r.bench,
    r.node,
    String(Math.round(r.baseline.rps)),
    String(Math.round(r.candidate.rps)),
    r.ratio.toFixed(3),
    String(r.target),
    r.pass ? 'yes' : 'no',
  ]);
  writeFileSync(file, `${[...before, ...renderTable(rows), ...after].join('\n')}\n`);
}

/**
 * The cells of a Markdown table row.
 * @param {string} line
 */
function cells(line) {
  return line
    .replace(/^\|/, '')
    .replace(/\|\s*$/, '')
    .split('|')
    .map((c) => c.trim());
}

/**
 * @param {string[][]} rows
 * @returns {string[]}
 */
function renderTable(rows) {
  const widths = COLUMNS.map((c, i) => Math.max(3, c.length, ...rows.map((row) => (row[i] ?? '').length)));
  /** @param {string[]} row */
  const line = (row) =>
    `| ${COLUMNS.map((c, i) => (RIGHT.has(c) ? (row[i] ?? '').padStart(widths[i]) : (row[i] ?? '').padEnd(widths[i]))).join(' | ')} |`;
  const separator = `| ${COLUMNS.map((c, i) => (RIGHT.has(c) ? `${'-'.repeat(widths[i] - 1)}:` : '-'.repeat(widths[i]))).join(' | ')} |`;
  return [line(COLUMNS), separator, ...rows.map(line)];
}
