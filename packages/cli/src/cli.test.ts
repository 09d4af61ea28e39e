// The command in-process: help everywhere, mistakes answered with what to do, `validate` with every
// problem at file:line:col (exit 1) or a summary (exit 0), JSON for scripts.
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { run } from './cli.js';
import type { Io } from './io.js';

const fixtures = new URL('./fixtures/', import.meta.url).pathname;

async function gatehouse(args: string[], env: Record<string, string> = {}, cwd = fixtures) {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: { write: (t: string) => (stdout += t), isTTY: false },
    stderr: { write: (t: string) => (stderr += t), isTTY: false },
    env,
    cwd,
  };
  const code = await run(args, io);
  return { code, stdout, stderr };
}

describe('help and mistakes', () => {
  test('--help lists every command; each command has its own help', async () => {
    const top = await gatehouse(['--help']);
    expect(top.code).toBe(0);
    for (const command of [
      'validate',
      'status',
      'routes',
      'migration',
      'promote',
      'rollback',
      'set',
      'rearm',
      'reload',
      'purge',
      'init',
    ])
      expect(top.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    const set = await gatehouse(['set', '--help']);
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('--mode <mode>');
    expect(set.stdout).toContain('the mode (choices: "local", "shadow", "split", "fallback",');
  });

  test('a misspelt command is answered with a suggestion; a missing argument with what is needed', async () => {
    const typo = await gatehouse(['promte', 'orders']);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain("unknown command 'promte'");
    expect(typo.stderr).toContain('(Did you mean promote?)');
    const missing = await gatehouse(['set', 'orders']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("required option '--mode <mode>' not specified");
    const badMode = await gatehouse(['set', 'orders', '--mode', 'shadw']);
    expect(badMode.stderr).toContain("option '--mode <mode>' argument 'shadw' is invalid");
  });

  test('a gateway that is not there: what to check', async () => {
    // A port nothing listens on: one a server had a moment ago.
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    await new Promise((done) => server.close(done));
    const { code, stderr } = await gatehouse([
      'status',
      '--url',
      `http://127.0.0.1:${port}/_gatehouse`,
      '--timeout',
      '2000',
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain(
      `Cannot reach the gateway's admin API at http://127.0.0.1:${port}/_gatehouse/health (ECONNREFUSED). Is the gateway running? Point --url`,
    );
  });

  test('a bad --url or --weight is refused before any request', async () => {
    expect((await gatehouse(['routes', '--url', 'localhost:8080'])).stderr).toContain(
      "--url 'localhost:8080' is not an http(s) URL",
    );
    expect((await gatehouse(['set', 'orders', '--mode', 'split', '--weight', '150'])).stderr).toContain(
      "--weight '150' is not a percentage from 0 to 100",
    );
  });
});

describe('validate', () => {
  test('every problem with file:line:col and a suggestion, exit 1', async () => {
    const { code, stdout, stderr } = await gatehouse(['validate', 'every-mistake.yaml'], { PORT: '8080' });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.split('\n').filter((l) => l.startsWith('error '))).toEqual([
      'error every-mistake.yaml:7:26 services.orders.timeouts.totalMs: expected an integer, received the number 1.5',
      "error every-mistake.yaml:10:5 services.inventory.retyr: unknown key — did you mean 'retry'?",
      "error every-mistake.yaml:14:14 routes[0].service: unknown service 'ordrs' — did you mean 'orders'? (services: orders, inventory)",
      "error every-mistake.yaml:16:11 routes[1].name: duplicate route name 'orders' (already at routes[0])",
      'error every-mistake.yaml:17:11 routes[1].path: can never match: routes[0] comes first and takes every request it would (the table is matched in order; move this route above it)',
      "error every-mistake.yaml:22:11 routes[2].mode: expected one of 'local', 'shadow', 'split', 'fallback' or 'remote', received the string 'splt' — did you mean 'split'?",
      "error every-mistake.yaml:25:32 rateLimit.limits[0].duration: expected a whole number of seconds (60) or of s, m, h or d ('30s', '15m', '1h', '1d'), received the string '10ms'",
      'error every-mistake.yaml:30:14 aggregate[0].calls.order.dependsOn: dependency cycle: order → customer → order',
    ]);
    expect(stderr).toContain('✗ every-mistake.yaml: 8 problems; nothing was started.');
  });

  test('a valid file: a summary and warnings for the old route format, exit 0; an unset variable is a problem', async () => {
    const ok = await gatehouse(['validate', 'valid.yaml'], { ORDERS_URL: 'http://127.0.0.1:8081' });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('✓ valid.yaml is valid (1 services, 2 routes, rateLimit)\n');
    expect(ok.stderr).toBe(
      "warning valid.yaml:5:22 routes[1].to: 'to: local' is the old route format: write 'mode: local'\n",
    );
    const unset = await gatehouse(['validate', 'valid.yaml']);
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain(
      'valid.yaml:2:18 services.orders.url: the environment variable ORDERS_URL is not set',
    );
  });

  test('--env-file supplies variables; --json is for scripts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
    writeFileSync(join(dir, '.env'), 'ORDERS_URL=http://orders.internal:8080\n');
    const ok = await gatehouse(['validate', join(fixtures, 'valid.yaml'), '--env-file', '.env'], {}, dir);
    expect(ok.code).toBe(0);
    const report = await gatehouse(['--json', 'validate', 'every-mistake.yaml'], { PORT: '1' });
    expect(report.code).toBe(1);
    const parsed = JSON.parse(report.stdout) as {
      valid: boolean;
      problems: { path: string; source: { line: number } }[];
    };
    expect(parsed.valid).toBe(false);
    expect(parsed.problems.map((p) => `${p.path}@${p.source.line}`)).toContain('routes[2].mode@22');
  });

  test('a file that does not exist, or is not YAML or JSON', async () => {
    const missing = await gatehouse(['validate', 'nope.yaml']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("cannot read 'nope.yaml': ENOENT");
    const wrong = await gatehouse(['validate', 'config.toml']);
    expect(wrong.stderr).toContain('configuration files end in .yaml, .yml or .json');
  });
});
