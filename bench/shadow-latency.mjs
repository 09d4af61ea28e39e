// Issue 7's shadow bar is on latency ("shadow adds at most 10 % to the local path's p50"), which a
// saturating closed-loop run cannot show: there, p50 is queueing (≈ connections / rps) and a shadow,
// which doubles the work per request, doubles it. This measures what a client of a gateway with spare
// CPU sees: a fixed, moderate request rate (open loop), the local-mode and
// the shadow-mode servers of shadow-overhead taking turns on the same pinned CPU, p50 and p99 of each.
//
//   node bench/shadow-latency.mjs [rate=300] [rounds=6] [seconds=5] [node=this node]
import { execFileSync } from 'node:child_process';
import { Pool } from 'undici';
import { startServer } from './lib/server.mjs';

const [rate = '300', rounds = '6', seconds = '5', node = process.execPath] = process.argv.slice(2);
const servers = {
  local: new URL('./servers/shadow-express-local.mjs', import.meta.url).pathname,
  shadow: new URL('./servers/shadow-express-shadow.mjs', import.meta.url).pathname,
};
try {
  execFileSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' });
} catch {
  // Without taskset the load generator shares the CPUs; the numbers are noisier, not wrong.
}

/**
 * One run at the fixed rate against `port`: requests start every 1/rate s whether or not earlier ones
 * have answered (open loop), each timed with performance.now(). autocannon's rate limiting sends each
 * second's requests in a burst, which measures queueing again; and it reports whole milliseconds.
 */
async function measure(port, seconds) {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 16 });
  const latencies = [];
  let bad = 0;
  const interval = 1000 / Number(rate);
  const count = Math.round(seconds * Number(rate));
  const start = performance.now();
  const pending = [];
  for (let i = 0; i < count; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const sent = performance.now();
    pending.push(
      pool.request({ method: 'GET', path: '/hello' }).then(
        async (res) => {
          await res.body.text();
          if (res.statusCode !== 200) bad++;
          latencies.push(performance.now() - sent);
        },
        () => {
          bad++;
        },
      ),
    );
  }
  await Promise.all(pending);
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q) =>
    Number(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(3));
  return { p50: at(0.5), p99: at(0.99), bad };
}

const samples = { local: [], shadow: [] };
for (let round = 0; round < Number(rounds); round++) {
  // Alternate which side goes first, so drift on the machine falls on both.
  const order = round % 2 === 0 ? ['local', 'shadow'] : ['shadow', 'local'];
  for (const mode of order) {
    const server = await startServer(servers[mode], { node, label: mode, prefix: ['taskset', '-c', '1'] });
    await measure(server.port, 2); // warm-up
    const m = await measure(server.port, Number(seconds));
    await server.stop();
    if (m.bad > 0) throw new Error(`${mode}: ${m.bad} failed requests`);
    samples[mode].push(m);
    process.stderr.write(`round ${round + 1} ${mode}: p50 ${m.p50} ms, p99 ${m.p99} ms\n`);
  }
}
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const summary = (list) => ({
  p50: Number(median(list.map((m) => m.p50)).toFixed(3)),
  p99: Number(median(list.map((m) => m.p99)).toFixed(3)),
});
const local = summary(samples.local);
const shadow = summary(samples.shadow);
console.log(
  JSON.stringify({
    bench: 'shadow-latency',
    node: execFileSync(node, ['--version']).toString().trim(),
    rate: Number(rate),
    local,
    shadow,
    p50Ratio: Number((shadow.p50 / local.p50).toFixed(3)),
    target: 1.1,
    pass: shadow.p50 / local.p50 <= 1.1,
  }),
);
