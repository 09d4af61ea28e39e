// Issue 17's versioning bar as CPU time per request: gw.version() may cost at most 2 % over the
// hand-written versioning floor (express-versioning / koa-versioning at ≥ 0.98). Those rps ratios
// swing by ±5 % a round on the shared machine; the CPU time each server spends on the same requests,
// compared in small interleaved batches (lib/cpu-pairs.mjs), does not. Servers, per framework: the
// floor, the floor behind a do-nothing Gatehouse middleware (net), and gw.version(). Prints one JSON
// line: µs/request, and the implied throughput ratios (the median of per-round ratios of CPU time,
// with quartiles): gatehouse against the floor (the bar), net against the floor (what the adapter
// and the exchange cost), gatehouse against net (versioning's own work).
//
//   node bench/versioning-cpu.mjs [pairs=150] [batch=400] [node=this node] [frameworks=express,koa]
import { cpuPairs } from './lib/cpu-pairs.mjs';
import { versionedRequests } from './lib/versioning-apps.mjs';

const [pairs = '150', batch = '400', node = process.execPath, frameworks = 'express,koa'] =
  process.argv.slice(2);
const server = (file) => new URL(`./servers/${file}.mjs`, import.meta.url).pathname;
const servers = {};
const compare = [];
for (const fw of frameworks.split(',')) {
  servers[`${fw}-floor`] = server(`${fw}-versioning-floor`);
  servers[`${fw}-net`] = server(`${fw}-versioning-floor-on-gatehouse`);
  servers[`${fw}-gatehouse`] = server(`${fw}-versioning`);
  compare.push(
    [`${fw}-gatehouse`, `${fw}-floor`],
    [`${fw}-net`, `${fw}-floor`],
    [`${fw}-gatehouse`, `${fw}-net`],
  );
}
const result = await cpuPairs({
  servers,
  compare,
  requests: versionedRequests,
  pairs: Number(pairs),
  batch: Number(batch),
  node,
});
console.log(JSON.stringify({ bench: 'versioning-cpu', target: 0.98, ...result }));
