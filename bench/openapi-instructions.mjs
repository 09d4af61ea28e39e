// Issue 17's bar counted in instructions per request (valgrind's callgrind): gw.validate()'s overhead
// over bare Express at most 1/10 of express-openapi-validator's at 10 operations and 1/20 at 200.
// Unlike rps ratios and CPU time, an instruction count does not move with the load on the machine
// (here: other sessions keeping both cores busy, load average 5–16); only the run's duration does.
//
// Each server runs under callgrind with `--single-threaded` (no GC or compiler helper threads, whose
// spin-waits would make the count depend on scheduling), gets `warmup` requests, then `batches`
// counted batches of `count` requests: counters zeroed with `callgrind_control -z`, dumped with `-d`.
// Each batch's dump is split by function name into garbage collection (V8's heap: scavenges, marking,
// sweeping, write barriers), V8's compilers (still tiering up code), and the rest. The rest is the
// steady work a request costs and repeats to about 1 %; GC is real cost too, but a mark-compact
// landing in a batch or not moves a server's total by 10–20 %, so the JSON gives both, medians over
// the batches. Servers: bare Express, the do-nothing Gatehouse floor, gw.validate() (the body
// replayed, and `requests.body: 'parsed'`) and the peer at 10 and 200 operations; Koa's bare app,
// floor and gw.validate() beside. Two servers at a time (valgrind runs each on one core); a server
// takes about a minute to start and runs 50–100× slower than natively.
//
//   node bench/openapi-instructions.mjs [warmup=4000] [count=3000] [batches=2] [node=this node]
//   ONLY=express-bare,express-noop node bench/openapi-instructions.mjs      (a subset)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { openapiRequests } from './lib/openapi-apps.mjs';
import { startServer } from './lib/server.mjs';

const [warmup = '4000', count = '3000', batches = '2', node = process.execPath] = process.argv.slice(2);
const server = (file) => new URL(`./servers/${file}.mjs`, import.meta.url).pathname;
const SERVERS = {
  'express-bare': ['openapi-express-bare', 10],
  'express-noop': ['openapi-express-noop', 10],
  'express-gatehouse-10': ['openapi-express-gatehouse-10', 10],
  'express-parsed-10': ['openapi-express-gatehouse-parsed-10', 10],
  'express-eov-10': ['openapi-express-eov-10', 10],
  'express-gatehouse-200': ['openapi-express-gatehouse-200', 200],
  'express-parsed-200': ['openapi-express-gatehouse-parsed-200', 200],
  'express-eov-200': ['openapi-express-eov-200', 200],
  'koa-bare': ['openapi-koa-bare', 10],
  'koa-noop': ['openapi-koa-noop', 10],
  'koa-gatehouse-10': ['openapi-koa-gatehouse-10', 10],
  'koa-gatehouse-200': ['openapi-koa-gatehouse-200', 200],
};
const GC =
  /Heap::|Scaveng|MarkCompact|Marking|Sweeper|Evacuat|RecordMigrated|RememberedSet|WriteBarrier|MemoryAllocator|LiveObjectRange|BodyDescriptorBase::Iterate|Worklist|SlotSet|heap::base|cppgc|FreeList|MemoryChunk|GlobalHandles|Builtins_RecordWrite|PagedSpace|NewSpace|SemiSpace|IncrementalMarking|HeapObject::SizeFromMap|IterateObjectCache|__popcountdi2|ActiveSystemPages/;
const JIT =
  /compiler::|Turbofan|TurboFan|Maglev|maglev|interpreter::Bytecode|Parser::|Compiler::|PipelineImpl|RegisterAllocat|InstructionSelector|CodeGenerator|Assembler::|Zone::|LiveRange/;

/** Total, GC and compiler instructions of one dump, from callgrind_annotate's self costs. */
function split(file) {
  const text = execFileSync('callgrind_annotate', ['--threshold=100', '--inclusive=no', file], {
    maxBuffer: 256 * 1024 * 1024,
  }).toString();
  let total = 0;
  let gc = 0;
  let jit = 0;
  for (const line of text.split('\n')) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
    if (m === null) continue;
    const ir = Number(m[1].replaceAll(',', ''));
    const name = m[2];
    if (name.includes('PROGRAM TOTALS')) total = ir;
    else if (/libc-start|below main|\?\?\?:main |node::|0x000000000001ab70/.test(name)) continue;
    else if (GC.test(name)) gc += ir;
    else if (JIT.test(name)) jit += ir;
  }
  return { total, gc, jit };
}

async function load(port, amount, requests) {
  // A generous timeout: under valgrind on a loaded machine an answer can take seconds.
  const r = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: 10,
    amount,
    requests,
    timeout: 300,
  });
  if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0)
    throw new Error(`${r.non2xx} non-2xx answers, ${r.errors} errors, ${r.timeouts} timeouts`);
}

async function measure(name) {
  const [file, operations] = SERVERS[name];
  const requests = openapiRequests(operations);
  const dir = mkdtempSync(join(tmpdir(), 'gh-openapi-callgrind-'));
  const out = join(dir, 'cg.out');
  const running = await startServer(server(file), {
    node: '--single-threaded', // after the prefix's node: an option to it
    label: name,
    prefix: ['valgrind', '-q', '--tool=callgrind', `--callgrind-out-file=${out}`, node],
    startTimeoutMs: 600_000,
  });
  try {
    await load(running.port, Number(warmup), requests);
    const values = [];
    for (let b = 0; b < Number(batches); b++) {
      execFileSync('callgrind_control', ['-z', String(running.pid)], { stdio: 'ignore' });
      await load(running.port, Number(count), requests);
      execFileSync('callgrind_control', ['-d', String(running.pid)], { stdio: 'ignore' });
      const dump = readdirSync(dir)
        .filter((f) => /^cg\.out\.\d+$/.test(f))
        .sort((x, y) => Number(x.split('.').pop()) - Number(y.split('.').pop()))
        .at(-1);
      const { total, gc, jit } = split(join(dir, dump));
      const n = Number(count);
      values.push({ total: total / n, gc: gc / n, jit: jit / n, rest: (total - gc - jit) / n });
    }
    return values;
  } finally {
    await running.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const only = process.env.ONLY?.split(',');
const names = Object.keys(SERVERS).filter((n) => only === undefined || only.includes(n));
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const samples = {};
const queue = [...names];
const worker = async () => {
  while (queue.length > 0) {
    const name = queue.shift();
    samples[name] = await measure(name);
    const shown = samples[name].map((v) => `${Math.round(v.total)} (rest ${Math.round(v.rest)})`);
    process.stderr.write(`${name}: ${shown.join(', ')} instructions/request\n`);
  }
};
await Promise.all([worker(), worker()]);

const of = (part) =>
  Object.fromEntries(names.map((n) => [n, Math.round(median(samples[n].map((v) => v[part])))]));
const total = of('total');
const rest = of('rest');
const overheadOf = (counts) => {
  const out = {};
  for (const name of names) {
    const bare = name.startsWith('koa-') ? 'koa-bare' : 'express-bare';
    if (name !== bare && counts[bare] !== undefined) out[name] = counts[name] - counts[bare];
  }
  return out;
};
const quotientsOf = (over) => {
  const q = (a, b) =>
    over[a] === undefined || over[b] === undefined
      ? undefined
      : Math.round((over[a] / over[b]) * 1000) / 1000;
  // The bar: ≤ 0.1 at 10 operations, ≤ 0.05 at 200; the floor's quotient is the least any
  // Gatehouse middleware can reach.
  return {
    floor10: q('express-noop', 'express-eov-10'),
    replay10: q('express-gatehouse-10', 'express-eov-10'),
    parsed10: q('express-parsed-10', 'express-eov-10'),
    floor200: q('express-noop', 'express-eov-200'),
    replay200: q('express-gatehouse-200', 'express-eov-200'),
    parsed200: q('express-parsed-200', 'express-eov-200'),
  };
};
const overTotal = overheadOf(total);
const overRest = overheadOf(rest);
console.log(
  JSON.stringify({
    bench: 'openapi-instructions',
    node: execFileSync(node, ['--version']).toString().trim(),
    warmup: Number(warmup),
    requests: Number(count),
    batches: Number(batches),
    instructionsPerRequest: total,
    withoutGcAndCompiler: rest,
    gc: of('gc'),
    compiler: of('jit'),
    overhead: overTotal,
    overheadWithoutGcAndCompiler: overRest,
    quotients: quotientsOf(overTotal),
    quotientsWithoutGcAndCompiler: quotientsOf(overRest),
    samples,
  }),
);
