// Issue 18's cache-hit bar, measured as CPU time per request. The rps ratios of cache-hit-proxy and
// cache-hit-net swing with whatever else keeps the 2 cores busy; the CPU time the server process
// itself spends per request (utime + stime from /proc over a fixed count) hardly depends on it. The
// servers take turns in each round (pinned to CPU 1, the load generator on CPU 0): the memory handler
// alone, behind a no-op Gatehouse middleware, and a cache hit on a `cache: true` route. Prints one JSON
// line with the median µs/request of each and the throughput each implies against the bare handler
// (bare µs / server µs: the bar is ≥ 0.90 for the cache hit).
//
//   node bench/cache-cpu.mjs [rounds=5] [requests=20000] [node=this node]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { startServer } from './lib/server.mjs';

const [rounds = '5', count = '20000', node = process.execPath] = process.argv.slice(2);
const server = (file) => new URL(`./servers/${file}.mjs`, import.meta.url).pathname;
const SERVERS = { bare: 'cache-hit-floor', noop: 'cache-net-floor', hit: 'cache-hit-gatehouse' };
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
for (const [name, file] of Object.entries(SERVERS)) {
  running[name] = await startServer(server(file), {
    node,
    label: name,
    prefix: pinned ? ['taskset', '-c', '1'] : [],
  });
}
const samples = Object.fromEntries(Object.keys(SERVERS).map((name) => [name, []]));
try {
  for (const name of Object.keys(SERVERS)) {
    await autocannon({ url: `http://127.0.0.1:${running[name].port}/hello`, connections: 10, amount: 5000 });
  }
  for (let round = 0; round < Number(rounds); round++) {
    for (const name of Object.keys(SERVERS)) {
      const { pid, port } = running[name];
      const before = cpuUs(pid);
      const result = await autocannon({
        url: `http://127.0.0.1:${port}/hello`,
        connections: 10,
        amount: Number(count),
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
const ratio = (name) => Math.round((us.bare / us[name]) * 1000) / 1000;
console.log(
  JSON.stringify({
    bench: 'cache-cpu',
    node: execFileSync(node, ['--version']).toString().trim(),
    rounds: Number(rounds),
    requests: Number(count),
    pinned,
    usPerRequest: us,
    impliedRatio: { noop: ratio('noop'), hit: ratio('hit') },
    target: 0.9,
    pass: ratio('hit') >= 0.9,
    samples,
  }),
);
