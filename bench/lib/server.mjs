// Starting and stopping server modules in child processes.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 2_000;

/** @type {Set<import('node:child_process').ChildProcess>} */
const live = new Set();

/** Kills every server child still running (used on exit and on SIGINT/SIGTERM). */
export function killAllServers() {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/**
 * Resolves a bench module's `baseline`/`candidate` to a file path: a `URL` or `file:` string, a path
 * relative to the bench module's own file, an absolute path, or a package specifier (resolved from
 * bench/).
 * @param {string | URL} spec
 * @param {string} benchFile absolute path of the bench module that names it
 * @returns {string}
 */
export function resolveServerModule(spec, benchFile) {
  let file;
  if (spec instanceof URL || String(spec).startsWith('file:')) file = fileURLToPath(spec);
  else if (typeof spec !== 'string' || spec === '') throw new Error(`not a server module: ${String(spec)}`);
  else if (spec.startsWith('.') || isAbsolute(spec)) file = resolve(dirname(benchFile), spec);
  else file = fileURLToPath(import.meta.resolve(spec));
  if (!existsSync(file)) throw new Error(`server module not found: ${file}`);
  return file;
}

/**
 * @typedef {object} RunningServer
 * @property {number} port
 * @property {number} pid
 * @property {() => Promise<void>} stop
 * @property {() => string} stderrTail the last lines the server wrote to stderr
 */

/**
 * Starts `file` with `node` in a child process and waits until it reports its port (IPC message
 * `{ port }`, or a port number / `{"port":N}` / "...:PORT" as the first stdout line).
 * @param {string} file server module
 * @param {object} options
 * @param {string} options.node Node binary
 * @param {string} options.label prefix for the child's forwarded output
 * @param {string[]} [options.prefix] command to run node under (e.g. `['taskset', '-c', '1']`)
 * @param {Record<string, string>} [options.env] extra environment
 * @returns {Promise<RunningServer>}
 */
export function startServer(file, { node, label, prefix = [], env = {} }) {
  const [cmd, ...args] = [...prefix, node, file];
  const child = spawn(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'production', ...env },
  });
  live.add(child);
  /** @type {string[]} */
  const tail = [];
  const stderrTail = () => tail.join('');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    tail.push(chunk);
    if (tail.length > 40) tail.shift();
    process.stderr.write(prefixLines(chunk, `  [${label}] `));
  });

  let exited = false;
  const exitedPromise = new Promise((resolveExit) => {
    child.once('exit', (code, signal) => {
      exited = true;
      live.delete(child);
      resolveExit({ code, signal });
    });
  });

  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exitedPromise;
    clearTimeout(timer);
  };

  return new Promise((resolveStart, rejectStart) => {
    let settled = false;
    let stdoutBuf = '';
    const done = (err, port) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        stop().finally(() => rejectStart(err));
      } else {
        resolveStart({ port, pid: /** @type {number} */ (child.pid), stop, stderrTail });
      }
    };
    const timer = setTimeout(
      () => done(new Error(`${label}: no port reported within ${START_TIMEOUT_MS} ms (${file})`)),
      START_TIMEOUT_MS,
    );
    child.on('message', (msg) => {
      const port = parsePort(msg);
      if (port !== undefined) done(null, port);
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      if (!settled) {
        stdoutBuf += chunk;
        const nl = stdoutBuf.indexOf('\n');
        if (nl === -1) return;
        const first = stdoutBuf.slice(0, nl).trim();
        const port = parsePort(first);
        if (port === undefined) done(new Error(`${label}: first stdout line is not a port: ${first}`));
        else done(null, port);
        chunk = stdoutBuf.slice(nl + 1);
      }
      if (chunk) process.stderr.write(prefixLines(chunk, `  [${label}] `));
    });
    child.once('error', (err) => done(new Error(`${label}: cannot start ${cmd}: ${err.message}`)));
    exitedPromise.then(({ code, signal }) => {
      const why = signal ? `signal ${signal}` : `code ${code}`;
      done(new Error(`${label}: server exited (${why}) before reporting a port\n${stderrTail()}`));
    });
  });
}

/**
 * @param {unknown} msg
 * @returns {number | undefined}
 */
function parsePort(msg) {
  if (typeof msg === 'string') {
    const s = msg.trim();
    if (/^\d+$/.test(s)) return validPort(Number(s));
    if (s.startsWith('{')) {
      try {
        return parsePort(JSON.parse(s));
      } catch {
        return undefined;
      }
    }
    const m = /:(\d+)\b/.exec(s);
    return m ? validPort(Number(m[1])) : undefined;
  }
  if (typeof msg === 'number') return validPort(msg);
  if (msg && typeof msg === 'object' && 'port' in msg) return validPort(Number(msg.port));
  return undefined;
}

/** @param {number} n */
function validPort(n) {
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : undefined;
}

/**
 * @param {string} text
 * @param {string} prefix
 */
function prefixLines(text, prefix) {
  return text.replace(/^(?=.)/gm, prefix);
}
