// Test support (not built into dist): free ports, polling with a deadline instead of fixed sleeps,
// child processes that die with the test process, and the rule for real components — a test that
// needs a binary the machine lacks is skipped loudly on a developer machine and fails on CI.
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';

export const ON_CI = process.env.CI === 'true';

/** Why `binary` cannot be used (undefined when it can); warns loudly when tests will be skipped. */
export function missingBinary(binary: string, what: string): string | undefined {
  try {
    accessSync(binary, constants.X_OK);
    return undefined;
  } catch {
    const reason = `${binary} is not installed (apt-get install ${what})`;
    if (!ON_CI) console.warn(`\n!!! SKIPPING the tests that need ${binary}: ${reason}\n`);
    return reason;
  }
}

/** A loopback port free for both TCP and UDP right now (DNS servers listen on both). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    await new Promise((done) => server.close(done));
    const udp = createSocket('udp4');
    const free = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((done) => udp.close(() => done()));
    if (free) return port;
  }
  throw new Error('no free loopback port for TCP and UDP');
}

/**
 * Polls `probe` every `intervalMs` until it returns something other than undefined/false, and
 * returns that; fails with `what` when `timeoutMs` passes first.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 10_000, intervalMs = 20 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

// Started processes are killed when the test process exits, however the tests ended.
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** A child process whose last output lines are kept for error messages. */
export interface Child {
  readonly process: ChildProcess;
  /** The last lines it printed. */
  output(): string;
  /** Resolves when it has exited. */
  readonly exited: Promise<void>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
}

export function startChild(binary: string, args: readonly string[]): Child {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      children.delete(child);
      resolve();
    });
    child.once('error', (error) => {
      lines.push(String(error));
      children.delete(child);
      resolve();
    });
  });
  return {
    process: child,
    output: () => lines.join('\n'),
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
