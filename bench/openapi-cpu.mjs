// Issue 17's bar, measured as CPU time per request: gw.validate() may cost at most 1/10 of what
// express-openapi-validator costs at 10 operations and 1/20 at 200. The rps ratios of
// express-openapi-* are the throughput view; on a shared 2-core machine whose other tenant keeps
// both cores busy, they spread by ±15 % per round. CPU time the server process itself spends per
// request (utime + stime from /proc, over a fixed count of requests) hardly depends on what else runs,
// so this takes turns: every server of the set (bare, the no-op Gatehouse floor, gw.validate() with the
// body replayed and with `requests.body: 'parsed'`, express-openapi-validator; 10 and 200 operations;
// Express and Koa) gets the same requests in each round, one at a time, pinned to CPU 1 with the load
// generator on CPU 0. Prints one JSON line with the median µs/request per server, the overhead of each
// over its bare app, and the quotients the bar sets (and the floor's). Under heavy load the medians
// still move by 10–20 %; bench/openapi-instructions.mjs counts instructions instead, which load does
// not change.
//
//   node bench/openapi-cpu.mjs [rounds=5] [requests=20000] [node=this node]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { openapiRequests } from './lib/openapi-apps.mjs';
import { startServer } from './lib/server.mjs';

const [rounds = '5', count = '20000', node = process.execPath] = process.argv.slice(2);
const server = (file) => new URL(`./servers/${file}.mjs`, import.meta.url).pathname;
const SERVERS = {
  'express-bare': { file: 'openapi-express-bare', operations: 10 },
  'express-noop': { file: 'openapi-express-noop', operations: 10 },
  'express-gatehouse-10': { file: 'openapi-express-gatehouse-10', operations: 10 },
  'express-parsed-10': { file: 'openapi-express-gatehouse-parsed-10', operations: 10 },
  'express-eov-10': { file: 'openapi-express-eov-10', operations: 10 },
  'express-gatehouse-200': { file: 'openapi-express-gatehouse-200', operations: 200 },
  'express-parsed-200': { file: 'openapi-express-gatehouse-parsed-200', operations: 200 },
  'express-eov-200': { file: 'openapi-express-eov-200', operations: 200 },
  'koa-bare': { file: 'openapi-koa-bare', operations: 10 },
  'koa-noop': { file: 'openapi-koa-noop', operations: 10 },
  'koa-gatehouse-10': { file: 'openapi-koa-gatehouse-10', operations: 10 },
  'koa-gatehouse-200': { file: 'openapi-koa-gatehouse-200', operations: 200 },
};
let pinned = true;
try {
  execFileSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' });
} catch {
  pinned = false;
}
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

/** CPU time (user + system) of a process so far, in µs, from /proc/<pid>/stat. */
function cpuUs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const running = {};
for (const [name, { file }] of Object.entries(SERVERS)) {
  running[name] = await startServer(server(file), {
    node,
    label: name,
    prefix: pinned ? ['taskset', '-c', '1'] : [],
  });
}
const samples = Object.fromEntries(Object.keys(SERVERS).map((name) => [name, []]));
try {
  // Warm-up: JIT, lazily compiled validators (express-openapi-validator compiles on first use).
  for (const [name, { operations }] of Object.entries(SERVERS)) {
    await autocannon({
      url: `http://127.0.0.1:${running[name].port}`,
      connections: 10,
      amount: 5000,
      requests: openapiRequests(operations),
    });
  }
  for (let round = 0; round < Number(rounds); round++) {
    for (const [name, { operations }] of Object.entries(SERVERS)) {
      const { pid, port } = running[name];
      const before = cpuUs(pid);
      const result = await autocannon({
        url: `http://127.0.0.1:${port}`,
        connections: 10,
        amount: Number(count),
        requests: openapiRequests(operations),
      });
      const spent = cpuUs(pid) - before;
      if (result.non2xx > 0 || result.errors > 0)
        throw new Error(`${name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
      samples[name].push(spent / Number(count));
    }
    process.stderr.write(
      `round ${round + 1}/${rounds}: ${Object.entries(samples)
        .map(([n, s]) => `${n} ${s.at(-1).toFixed(1)}`)
        .join(', ')} µs/request\n`,
    );
  }
} finally {
  await Promise.all(Object.values(running).map((r) => r.stop()));
}

const us = Object.fromEntries(Object.entries(samples).map(([n, s]) => [n, Math.round(median(s) * 10) / 10]));
const over = (name, base) => Math.round((us[name] - us[base]) * 10) / 10;
const overhead = Object.fromEntries(
  Object.keys(SERVERS)
    .filter((name) => name !== 'express-bare' && name !== 'koa-bare')
    .map((name) => [name, over(name, name.startsWith('koa-') ? 'koa-bare' : 'express-bare')]),
);
const quotient = (a, b) => Math.round((overhead[a] / overhead[b]) * 1000) / 1000;
console.log(
  JSON.stringify({
    bench: 'openapi-cpu',
    node: execFileSync(node, ['--version']).toString().trim(),
    rounds: Number(rounds),
    requests: Number(count),
    pinned,
    usPerRequest: us,
    overheadUs: overhead,
    // The bar: ≤ 0.1 at 10 operations, ≤ 0.05 at 200; the floor's quotient is the least any
    // Gatehouse middleware can reach.
    quotients: {
      floor10: quotient('express-noop', 'express-eov-10'),
      replay10: quotient('express-gatehouse-10', 'express-eov-10'),
      parsed10: quotient('express-parsed-10', 'express-eov-10'),
      floor200: quotient('express-noop', 'express-eov-200'),
      replay200: quotient('express-gatehouse-200', 'express-eov-200'),
      parsed200: quotient('express-parsed-200', 'express-eov-200'),
    },
    samples,
  }),
);
