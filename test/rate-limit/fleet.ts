// Starts gateway processes of a fleet (fleet-instance.mjs) as real child processes. They run the
// built packages (dist/), because Node 20 cannot run the TypeScript sources the tests use.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Framework } from '../support/apps.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const INSTANCE = join(here, 'fleet-instance.mjs');
// What a child imports, directly or through @gatehousejs/gateway.
const BUILT = ['core', 'auth', 'tracing', 'rate-limit', 'gateway', 'express', 'koa'];

/** What one instance is configured with (the same name, prefix and points on every instance). */
export interface InstanceConfig {
  framework: Framework;
  url: string;
  name: string;
  prefix: string;
  points: number;
  duration: number;
  key: 'ip' | { header: string };
  instances?: number;
  timeoutMs?: number;
}

export interface Instance {
  readonly framework: Framework;
  readonly port: number;
  readonly pid: number;
  /** What the process wrote to stderr (its reported errors). */
  readonly stderr: () => string;
  stop(): Promise<void>;
}

/**
 * Fails with a clear message when a package the children import has not been built; warns when a
 * build looks older than its sources (the children would test stale code).
 */
export function checkBuilt(): void {
  const missing = BUILT.filter((p) => !existsSync(join(root, 'packages', p, 'dist', 'index.js')));
  if (missing.length > 0) {
    throw new Error(
      `the fleet test runs gateway processes on the built packages, but ${missing
        .map((p) => `packages/${p}/dist`)
        .join(
          ', ',
        )} ${missing.length === 1 ? 'is' : 'are'} missing: run \`npx turbo run build --output-logs=errors-only\` (npm test builds first)`,
    );
  }
  const stale = BUILT.filter((p) => {
    const built = statSync(join(root, 'packages', p, 'dist', 'index.js')).mtimeMs;
    const src = join(root, 'packages', p, 'src');
    return readdirSync(src, { recursive: true }).some(
      (f) => String(f).endsWith('.ts') && statSync(join(src, String(f))).mtimeMs > built,
    );
  });
  if (stale.length > 0) {
    console.warn(
      `\n*** fleet test: packages/{${stale.join(',')}}/src changed after the last build; the gateway processes run the older dist/ ***\n`,
    );
  }
}

// Children must not inherit the test runner's `--conditions @gatehousejs/source` (it would point them
// at .ts sources); spawn() passes no execArgv, and NODE_OPTIONS is cleaned of conditions too.
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (env['NODE_OPTIONS'] !== undefined) {
    env['NODE_OPTIONS'] = env['NODE_OPTIONS'].replace(/(?:--conditions|-C)(?:=|\s+)\S+/g, '').trim();
  }
  return env;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts one gateway process; resolves once it listens (and its Redis client is ready). */
export function startInstance(config: InstanceConfig): Promise<Instance> {
  const child = spawn(process.execPath, [INSTANCE, JSON.stringify(config)], {
    cwd: here,
    env: childEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-10_000);
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  void exited.then(() => running.delete(child));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(timer);
    }
  };
  return new Promise<Instance>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${config.framework} instance did not start within 15 s; stderr: ${stderr}`));
    }, 15_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const line = out.split('\n')[0];
      if (!out.includes('\n') || line === undefined) return;
      clearTimeout(timer);
      const { port, pid } = JSON.parse(line) as { port: number; pid: number };
      resolve({ framework: config.framework, port, pid, stderr: () => stderr, stop });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(`${config.framework} instance exited (${signal ?? code}) before listening: ${stderr}`),
      );
    });
  });
}
