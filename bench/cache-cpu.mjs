// Issue 18's cache-hit bar, measured as CPU time per request. The rps ratios of cache-hit-proxy and
// cache-hit-net swing with whatever else keeps the 2 cores busy; CPU time per request compared in
// small interleaved batches (lib/cpu-pairs.mjs: every thread's schedstat, the servers taking turns on
// one pinned CPU, a ratio per round) hardly does. Servers: the memory handler answering what a hit answers (bare:
// the same bytes, `age` and `cache-status` included), the same handler behind a no-op Gatehouse
// middleware (noop), the body-only handler of the first rows (body), and a cache hit on a
// `cache: true` route (hit). Prints one JSON
// line with the median µs/request of each and the throughput each implies against the bare handler
// (the median of per-round ratios, with quartiles): the bar is ≥ 0.90 for hit / bare.
//
//   node bench/cache-cpu.mjs [pairs=200] [batch=400] [node=this node]
import { cpuPairs } from './lib/cpu-pairs.mjs';

const [pairs = '200', batch = '400', node = process.execPath] = process.argv.slice(2);
const server = (file) => new URL(`./servers/${file}.mjs`, import.meta.url).pathname;
const result = await cpuPairs({
  servers: {
    bare: server('cache-hit-floor'),
    body: server('cache-body-floor'),
    noop: server('cache-net-floor'),
    hit: server('cache-hit-gatehouse'),
  },
  compare: [
    ['hit', 'bare'],
    ['noop', 'bare'],
    ['hit', 'noop'],
    ['hit', 'body'],
    ['bare', 'body'],
  ],
  requests: [{ method: 'GET', path: '/hello' }],
  pairs: Number(pairs),
  batch: Number(batch),
  node,
});
const bar = result.impliedRatio['hit / bare'].median;
console.log(JSON.stringify({ bench: 'cache-cpu', target: 0.9, pass: bar >= 0.9, ...result }));
