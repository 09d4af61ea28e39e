#!/usr/bin/env node
// Gatehouse benchmark harness. See bench/README.md.
//
//   node bench/run.mjs [NAME...] [--rounds N] [--duration S] [--sessions K] [--warmup S] [--connections C]
//                      [--mode concurrent|alternate] [--no-pin] [--node PATH] [--no-record] [--list]
//
// stdout: exactly one JSON line per benchmark (nothing else); stderr: progress for humans.
// Exit 0 when every benchmark ran (whether or not it met its target), 1 when one could not be
// measured (a server failed to start, answered with errors or unexpected statuses, ...), 2 on bad usage.

import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { load, preflight } from './lib/measure.mjs';
import { recordResult } from './lib/record.mjs';
import { killAllServers, resolveServerModule, startServer } from './lib/server.mjs';
import { median, round } from './lib/stats.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const BENCH_DIR = join(HERE, 'benches');
const RESULTS_FILE = join(HERE, 'RESULTS.md');
const SUFFIX = '.bench.mjs';

const DEFAULTS = { rounds: 8, duration: 5, sessions: 4, warmup: 2, connections: 10, mode: 'concurrent' };

const USAGE = `usage: node bench/run.mjs [NAME...] [options]

  NAME...            benchmarks to run (default: all in bench/benches/*${SUFFIX})
  --rounds N         measurement rounds (default ${DEFAULTS.rounds})
  --duration S       seconds of load per round and side (default ${DEFAULTS.duration})
  --sessions K       fresh pairs of server processes the rounds are split over (default ${DEFAULTS.sessions})
  --warmup S         seconds of discarded load at the start of each session (default ${DEFAULTS.warmup})
  --connections C    keep-alive connections per server (default ${DEFAULTS.connections})
  --mode M           concurrent: both servers loaded at once, sharing one pinned CPU (default)
                     alternate: baseline, candidate, baseline, ... one at a time
  --no-pin           concurrent mode without CPU pinning (not recommended)
  --node PATH        Node binary that runs the servers (default: this one, ${process.execPath})
  --no-record        do not append to bench/RESULTS.md
  --list             list the benchmarks and exit
`;

class UsageError extends Error {}

/**
 * @typedef {'baseline' | 'candidate'} Side
 * @typedef {import('./lib/server.mjs').RunningServer} RunningServer
 * @typedef {ReturnType<typeof parseCli>} Options
 */

/**
 * @typedef {import('./lib/measure.mjs').BenchRequest} BenchRequest
 * @typedef {import('./lib/measure.mjs').Sample} Sample
 *
 * @typedef {object} BenchModule what a `*.bench.mjs` file exports (named exports, or a default object)
 * @property {string} name equals the file name without `.bench.mjs`
 * @property {number} target lowest acceptable candidate/baseline ratio
 * @property {string} description one or two sentences: what is compared
 * @property {string | URL} baseline server module (path relative to the bench file, URL or specifier)
 * @property {string | URL} candidate server module
 * @property {BenchRequest[]} [requests] cycled on every connection; default `[{ path: '/' }]`
 * @property {number} [expectStatus] the status every response must have; default any 2xx
 * @property {(res: { side: string, request: BenchRequest, status: number, headers: Headers, body: string }) => void} [check]
 *   called once per request and side before the load; throw to fail the benchmark
 */

async function main() {
  const opts = parseCli(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const available = discover();
  if (opts.list) {
    for (const { name, file } of available) {
      const mod = await loadBench(file, name);
      process.stdout.write(`${name.padEnd(24)} target ${mod.target}  ${mod.description}\n`);
    }
    return 0;
  }
  const unknown = opts.names.filter((n) => !available.some((b) => b.name === n));
  if (unknown.length) {
    throw new UsageError(
      `unknown benchmark(s): ${unknown.join(', ')}; available: ${available.map((b) => b.name).join(', ')}`,
    );
  }
  const selected = opts.names.length ? available.filter((b) => opts.names.includes(b.name)) : available;
  let nodeVersion;
  try {
    nodeVersion = execFileSync(opts.node, ['--version'], { encoding: 'utf8' }).trim();
  } catch (err) {
    throw new UsageError(`--node ${opts.node}: cannot run it (${err instanceof Error ? err.message : err})`);
  }
  const pinning = setUpPinning(opts);
  log(
    `gatehouse bench: ${selected.map((b) => b.name).join(', ')} | servers on node ${nodeVersion} | ` +
      `${opts.mode}, ${opts.rounds} rounds x ${opts.duration}s in ${opts.sessions} sessions, ${opts.warmup}s warm-up, ` +
      `${opts.connections} connections per server | ${pinning.note}`,
  );

  let failed = 0;
  for (const { name, file } of selected) {
    const started = Date.now();
    try {
      const mod = await loadBench(file, name);
      const result = await runBench(mod, file, opts, nodeVersion, pinning.prefix);
      process.stdout.write(`${JSON.stringify(result)}\n`);
      if (opts.record) recordResult(RESULTS_FILE, result);
      log(
        `[${name}] ratio ${result.ratio.toFixed(3)} (target ${result.target}) ${result.pass ? 'PASS' : 'BELOW TARGET'}` +
          ` in ${((Date.now() - started) / 1000).toFixed(1)}s`,
      );
    } catch (err) {
      failed++;
      const message = err instanceof Error ? err.message : String(err);
      log(`\n[${name}] ERROR — no ratio reported:\n${message}\n`);
      process.stdout.write(
        `${JSON.stringify({ bench: name, error: message.split('\n')[0], pass: false })}\n`,
      );
    }
  }
  return failed ? 1 : 0;
}

/**
 * @param {string[]} argv
 */
function parseCli(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        rounds: { type: 'string' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        sessions: { type: 'string' },
        connections: { type: 'string' },
        mode: { type: 'string' },
        'no-pin': { type: 'boolean' },
        node: { type: 'string' },
        'no-record': { type: 'boolean' },
        list: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  /**
   * @param {string} key
   * @param {number} fallback
   * @param {boolean} integer
   */
  const num = (key, fallback, integer) => {
    const raw = /** @type {string | undefined} */ (values[key]);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n)) || (key !== 'warmup' && n === 0)) {
      throw new UsageError(`--${key} must be a positive ${integer ? 'integer' : 'number'}, got ${raw}`);
    }
    return n;
  };
  const mode = /** @type {string | undefined} */ (values.mode) ?? DEFAULTS.mode;
  if (mode !== 'concurrent' && mode !== 'alternate') {
    throw new UsageError(`--mode must be concurrent or alternate, got ${mode}`);
  }
  return {
    names: positionals,
    mode: /** @type {'concurrent' | 'alternate'} */ (mode),
    pin: !values['no-pin'],
    rounds: num('rounds', DEFAULTS.rounds, true),
    duration: num('duration', DEFAULTS.duration, false),
    warmup: num('warmup', DEFAULTS.warmup, false),
    sessions: num('sessions', DEFAULTS.sessions, true),
    connections: num('connections', DEFAULTS.connections, true),
    node: /** @type {string | undefined} */ (values.node) ?? process.execPath,
    record: !values['no-record'],
    list: Boolean(values.list),
    help: Boolean(values.help),
  };
}

/** @returns {{ name: string, file: string }[]} */
function discover() {
  return readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith(SUFFIX))
    .sort()
    .map((f) => ({ name: basename(f, SUFFIX), file: join(BENCH_DIR, f) }));
}

/**
 * Imports and validates a bench module.
 * @param {string} file
 * @param {string} expectedName
 * @returns {Promise<BenchModule>}
 */
async function loadBench(file, expectedName) {
  const ns = await import(pathToFileURL(file).href);
  /** @type {BenchModule} */
  const mod = ns.default && typeof ns.default === 'object' ? ns.default : ns;
  const problems = [];
  if (mod.name !== expectedName)
    problems.push(`name must be '${expectedName}' (the file name), got '${mod.name}'`);
  if (typeof mod.target !== 'number' || !(mod.target > 0)) problems.push('target must be a positive number');
  if (typeof mod.description !== 'string') problems.push('description must be a string');
  for (const side of ['baseline', 'candidate']) {
    const v = mod[/** @type {'baseline' | 'candidate'} */ (side)];
    if (typeof v !== 'string' && !(v instanceof URL))
      problems.push(`${side} must be a path, URL or specifier`);
  }
  if (mod.requests !== undefined) {
    if (!Array.isArray(mod.requests) || mod.requests.length === 0)
      problems.push('requests must be a non-empty array');
    else if (mod.requests.some((r) => typeof r?.path !== 'string' || !r.path.startsWith('/'))) {
      problems.push("every request needs a path starting with '/'");
    }
  }
  if (mod.check !== undefined && typeof mod.check !== 'function') problems.push('check must be a function');
  if (problems.length) throw new Error(`invalid bench module ${file}:\n  - ${problems.join('\n  - ')}`);
  return mod;
}

/**
 * Measures one benchmark. The rounds are split over `sessions`; each session starts a fresh baseline
 * and candidate server (each in its own child process, the one started first alternating between
 * sessions), checks their answers, warms them up, and keeps both alive for its rounds. Fresh
 * processes average out per-process luck (memory layout, JIT decisions), worth 1-2 % here.
 *
 * - `concurrent` (default): every round puts load on both servers at the same moment, both pinned
 *   to the same CPU (the harness and its load generator on another one), so they get equal CPU time
 *   and suffer the same interference from the rest of the machine; the ratio of their request rates
 *   is then the inverse ratio of their CPU cost per request.
 * - `alternate`: baseline, candidate, baseline, candidate, ... one at a time, unpinned.
 *
 * Either way the reported ratio is the median over rounds of (candidate rps / baseline rps of the
 * same round), and rps/p50/p99 per side are medians over rounds.
 * @param {BenchModule} mod
 * @param {string} file
 * @param {Options} opts
 * @param {string} nodeVersion
 * @param {string[]} serverPrefix command prefix that pins servers to their CPU, or []
 */
async function runBench(mod, file, opts, nodeVersion, serverPrefix) {
  const name = mod.name;
  const requests = mod.requests ?? [{ path: '/' }];
  const files = {
    baseline: resolveServerModule(mod.baseline, file),
    candidate: resolveServerModule(mod.candidate, file),
  };
  log(`\n[${name}] ${mod.description}`);
  log(`[${name}] baseline ${files.baseline}\n[${name}] candidate ${files.candidate}`);

  /** @type {Record<Side, Sample[]>} */
  const samples = { baseline: [], candidate: [] };
  /** @type {number[]} */
  const roundRatios = [];
  /** @type {number[]} */
  const loadCpu = [];
  const sessions = Math.min(opts.sessions, opts.rounds);
  let roundIndex = 0;
  for (let session = 0; session < sessions; session++) {
    const roundsHere = Math.floor(opts.rounds / sessions) + (session < opts.rounds % sessions ? 1 : 0);
    /** @type {Side[]} */
    const startOrder = session % 2 === 0 ? ['baseline', 'candidate'] : ['candidate', 'baseline'];
    /** @type {Partial<Record<Side, RunningServer>>} */
    const servers = {};
    try {
      for (const side of startOrder) {
        servers[side] = await startServer(files[side], {
          node: opts.node,
          label: `${name}/${side}`,
          prefix: serverPrefix,
        });
      }
      const running = /** @type {Record<Side, RunningServer>} */ (servers);
      log(
        `[${name}] session ${session + 1}/${sessions}: baseline pid ${running.baseline.pid} port ${running.baseline.port}, ` +
          `candidate pid ${running.candidate.pid} port ${running.candidate.port}`,
      );
      for (const side of startOrder) {
        await preflight(running[side].port, requests, {
          side,
          expectStatus: mod.expectStatus,
          check: mod.check,
        });
      }
      const both = measurer(mod, opts, requests, running);
      if (opts.warmup > 0) {
        const w = await both(opts.warmup, session, 'warm-up');
        log(`[${name}] warm-up    baseline ${fmt(w.baseline)} | candidate ${fmt(w.candidate)}`);
      }
      for (let k = 0; k < roundsHere; k++, roundIndex++) {
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const r = await both(opts.duration, roundIndex, `round ${roundIndex + 1}`);
        const cpu = process.cpuUsage(cpu0);
        // Share of one CPU the load generator (this process) used: near 100 % it, not the servers, is
        // the bottleneck, and the ratio is squeezed towards 1.
        loadCpu.push((cpu.user + cpu.system) / 1000 / (performance.now() - t0));
        samples.baseline.push(r.baseline);
        samples.candidate.push(r.candidate);
        roundRatios.push(r.candidate.rps / r.baseline.rps);
        log(
          `[${name}] round ${String(roundIndex + 1).padStart(2)}/${opts.rounds} baseline ${fmt(r.baseline)} | ` +
            `candidate ${fmt(r.candidate)} | ratio ${roundRatios[roundIndex].toFixed(3)} | ` +
            `load gen ${(loadCpu[roundIndex] * 100).toFixed(0)}% CPU`,
        );
      }
    } finally {
      await Promise.all(Object.values(servers).map((srv) => srv.stop()));
    }
  }

  const genCpu = median(loadCpu);
  if (genCpu > 0.85) {
    log(
      `[${name}] WARNING: the load generator used ${(genCpu * 100).toFixed(0)}% of its CPU; it may be the ` +
        'bottleneck, which pushes the ratio towards 1. Try fewer --connections or --mode alternate.',
    );
  }
  const summary = (/** @type {Sample[]} */ list) => ({
    rps: round(median(list.map((x) => x.rps)), 1),
    p50: round(median(list.map((x) => x.p50)), 3),
    p99: round(median(list.map((x) => x.p99)), 3),
  });
  const ratio = round(median(roundRatios), 4);
  return {
    bench: name,
    ratio,
    target: mod.target,
    pass: ratio >= mod.target,
    node: nodeVersion,
    baseline: summary(samples.baseline),
    candidate: summary(samples.candidate),
    rounds: opts.rounds,
    duration: opts.duration,
    connections: opts.connections,
    mode: opts.mode,
    sessions,
    pinned: serverPrefix.length > 0,
    roundRatios: roundRatios.map((r) => round(r, 3)),
    loadGenCpu: round(genCpu, 2),
  };
}

/**
 * Returns `both(duration, index, what)`: one measurement of both servers, at once (concurrent mode;
 * which side's load starts first alternates with `index`) or one after the other (alternate mode).
 * Throws, with the server's last stderr lines, when a side answered with an unexpected status or errors.
 * @param {BenchModule} mod
 * @param {Options} opts
 * @param {BenchRequest[]} requests
 * @param {Record<Side, RunningServer>} running
 * @returns {(duration: number, index: number, what: string) => Promise<Record<Side, Sample>>}
 */
function measurer(mod, opts, requests, running) {
  /**
   * @param {Side} side
   * @param {number} duration
   * @param {string} what
   */
  const measure = async (side, duration, what) => {
    const s = await load(running[side].port, requests, {
      duration,
      connections: opts.connections,
      expectStatus: mod.expectStatus,
    });
    if (s.non2xx > 0 || s.errors > 0 || s.requests === 0) {
      throw new Error(
        `${side} (${what}) answered badly: ${s.requests} responses, ${s.non2xx} with unexpected status, ` +
          `${s.errors} errors/timeouts/resets; statuses ${JSON.stringify(s.statusCounts)}\n` +
          running[side].stderrTail(),
      );
    }
    return s;
  };
  return async (duration, index, what) => {
    if (opts.mode === 'alternate') {
      const baseline = await measure('baseline', duration, what);
      const candidate = await measure('candidate', duration, what);
      return { baseline, candidate };
    }
    /** @type {Side[]} */
    const order = index % 2 === 0 ? ['baseline', 'candidate'] : ['candidate', 'baseline'];
    const results = await Promise.allSettled(order.map((side) => measure(side, duration, what)));
    const failure = results.find((r) => r.status === 'rejected');
    if (failure) throw failure.reason;
    const [first, second] = results.map((r) => /** @type {PromiseFulfilledResult<Sample>} */ (r).value);
    return index % 2 === 0 ? { baseline: first, candidate: second } : { baseline: second, candidate: first };
  };
}

/**
 * Pins this process (the load generator) to CPU 0 and returns the prefix that starts servers on the
 * last CPU, when the mode is concurrent, pinning is not disabled, taskset exists and there are ≥ 2 CPUs.
 * @param {Options} opts
 * @returns {{ prefix: string[], note: string }}
 */
function setUpPinning(opts) {
  if (opts.mode !== 'concurrent') return { prefix: [], note: 'unpinned' };
  if (!opts.pin) return { prefix: [], note: 'unpinned (--no-pin)' };
  const cpus = availableParallelism();
  if (cpus < 2) return { prefix: [], note: 'unpinned (1 CPU)' };
  const serverCpu = String(cpus - 1);
  const loadCpus = cpus === 2 ? '0' : `0-${cpus - 2}`;
  try {
    execFileSync('taskset', ['-a', '-cp', loadCpus, String(process.pid)], { stdio: 'ignore' });
  } catch {
    log('warning: taskset not available or not permitted; servers and load generator are NOT pinned');
    return { prefix: [], note: 'unpinned (no taskset)' };
  }
  return {
    prefix: ['taskset', '-c', serverCpu],
    note: `servers on CPU ${serverCpu}, load on CPU ${loadCpus}`,
  };
}

/** @param {Sample} s */
function fmt(s) {
  return `${s.rps.toFixed(0).padStart(7)} rps  p50 ${s.p50.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms`;
}

/** @param {string} line */
function log(line) {
  process.stderr.write(`${line}\n`);
}

for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(signal, () => {
    killAllServers();
    process.exit(130);
  });
}
process.once('exit', killAllServers);

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    killAllServers();
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
