// Issue 17: start-up of request validation for a 200-operation document (and 10), Gatehouse beside
// express-openapi-validator. Each measurement is a fresh Node process (so nothing is warm): the time
// from creating the validator until the app answers, then the latency of the first request to each of
// the four operations of the benchmark (express-openapi-validator compiles an operation's validators
// on its first request; Gatehouse compiled everything before it answered) and of a second request to
// the same operations, in wall time and in the process's CPU time. Medians over `runs` processes; one
// JSON line.
//
//   node bench/openapi-startup.mjs [runs=5] [node=this node]
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);

if (process.argv[2] === '--child') {
  const [, , , side, operations] = process.argv;
  const { openapiDocument, openapiRequests } = await import('./lib/openapi-apps.mjs');
  const express = (await import('express')).default;
  const document = openapiDocument(Number(operations));
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const cpuMs = () => {
    const { user, system } = process.cpuUsage(cpuStart);
    return (user + system) / 1000;
  };
  const app = express();
  if (side === 'gatehouse') {
    const { gateway } = await import('@gatehousejs/express');
    const gw = gateway({});
    app.use(gw.validate({ document, contractGuard: false }));
    await gw.start();
  }
  app.use(express.json());
  if (side === 'eov') {
    const { middleware } = await import('express-openapi-validator');
    app.use(middleware({ apiSpec: document, validateRequests: true, validateResponses: false }));
  }
  app.use((_req, res) => res.json({ ok: true }));
  app.use((error, _req, res, _next) => res.status(error.status ?? 500).json({ message: error.message }));
  const server = createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const ready = performance.now() - started;
  const readyCpu = cpuMs();
  const base = `http://127.0.0.1:${server.address().port}`;
  const time = async () => {
    const out = [];
    for (const r of openapiRequests(Number(operations))) {
      const t = performance.now();
      const res = await fetch(base + r.path, { method: r.method, headers: r.headers, body: r.body });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${side}: ${r.method} ${r.path} answered ${res.status}`);
      out.push(performance.now() - t);
    }
    return out;
  };
  const first = await time();
  const firstCpu = cpuMs() - readyCpu;
  const second = await time();
  console.log(JSON.stringify({ ready, readyCpu, first, firstCpu, second }));
  server.close();
  process.exit(0);
}

const [runs = '5', node = process.execPath] = process.argv.slice(2);
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round = (n) => Math.round(n * 10) / 10;
const results = {};
for (const operations of [10, 200]) {
  for (const side of ['gatehouse', 'eov']) {
    const samples = [];
    for (let i = 0; i < Number(runs); i++) {
      const out = execFileSync(node, [self, '--child', side, String(operations)], {
        cwd: new URL('.', import.meta.url),
        env: { ...process.env, NODE_ENV: 'production' },
      });
      samples.push(JSON.parse(out.toString().trim().split('\n').at(-1)));
    }
    const sum = (list) => list.reduce((a, b) => a + b, 0);
    results[`${side}-${operations}`] = {
      readyMs: round(median(samples.map((s) => s.ready))),
      readyCpuMs: round(median(samples.map((s) => s.readyCpu))),
      firstRequestsMs: round(median(samples.map((s) => sum(s.first)))),
      firstRequestsCpuMs: round(median(samples.map((s) => s.firstCpu))),
      secondRequestsMs: round(median(samples.map((s) => sum(s.second)))),
    };
  }
}
console.log(
  JSON.stringify({
    bench: 'openapi-startup',
    node: execFileSync(node, ['--version']).toString().trim(),
    runs: Number(runs),
    // readyMs: validator created → app listening; first/second: the four benchmark requests, summed.
    // The *CpuMs figures are the process's CPU time over the same spans (all threads; the client's
    // fetch is in the process too, alike on both sides), which the machine's load moves far less.
    results,
  }),
);
