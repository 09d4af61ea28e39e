// `npm run demo`: it starts with nothing installed (PGlite in memory), and every command it prints does
// what its comment says when run in the order printed, on a fresh start — the lines as printed, run by a
// shell: curl for the API and the admin API, npx newman for the RealWorld suite.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Demo, demoSections, instructions, promiseOf, startDemo } from '../src/demo.js';

const run = promisify(execFile);
const ON_CI = process.env.CI === 'true';
const CURL = spawnSync('curl', ['--version']).status === 0;
const ROOT = join(import.meta.dirname, '..', '..', '..');
if (!CURL && !ON_CI)
  console.warn('\n*** curl is missing: the printed demo commands are not run (they are on CI) ***\n');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const NO_CHROMIUM = existsSync(CHROMIUM)
  ? undefined
  : `no Chromium at ${CHROMIUM} (apt-get install chromium)`;
if (NO_CHROMIUM !== undefined && !ON_CI)
  console.warn(`\n*** the showcase's dashboard is not opened in a browser: ${NO_CHROMIUM} ***\n`);
/** Screenshots of the showcase's dashboard (not committed). */
const ARTIFACTS = join(import.meta.dirname, 'artifacts');

describe.skipIf(!CURL && !ON_CI)('npm run demo: the printed commands, run in the order printed', () => {
  let demo: Demo;
  const logs = mkdtempSync(join(tmpdir(), 'gatehouse-demo-test-'));
  beforeAll(async () => {
    if (!CURL) throw new Error('CI=true and curl is missing');
    // What `npm run demo` does, on free ports: PGlite in memory, seeded, the table from routes.yaml.
    demo = await startDemo({ port: 0, accessLogFile: join(logs, 'access.log') });
  }, 60_000);
  afterAll(async () => {
    await demo?.close();
    rmSync(logs, { recursive: true, force: true });
  });

  test('it starts on PGlite with nothing to install, seeded, with its URLs, keys and steps printed', () => {
    expect(demo.where).toBe('PGlite (in memory)');
    const text = instructions(demo);
    for (const shown of [
      demo.urls.api,
      demo.urls.articles,
      demo.urls.profiles,
      demo.adminKey,
      demo.user.email,
    ])
      expect(text).toContain(shown);
    expect(text).toContain('Run these in order');
  });

  test('every command answers what its comment promises', async () => {
    // Parsed from the printed text, not from the steps: what a person copies is what runs.
    const printed = instructions(demo).split('\n');
    const steps = demoSections(demo).flatMap((s) => s.steps);
    const commands: Array<{ command: string; promise: string }> = [];
    for (const [i, line] of printed.entries()) {
      if (!line.startsWith('curl ') && !line.startsWith('npx ')) continue;
      const comment = printed[i + 1]!;
      expect(comment, line).toMatch(/^ {4}# \S.* — /);
      commands.push({ command: line, promise: comment.slice(6, comment.indexOf(' — ')) });
    }
    expect(commands.map((c) => c.promise)).toEqual(steps.map(promiseOf));
    const outcomes: string[] = [];
    for (const [i, { command, promise }] of commands.entries()) {
      if (command.startsWith('npx ')) {
        // newman: exit 0 means every request and assertion of the RealWorld suite passed; gatehouse:
        // the command line reached the admin API and did what it was asked.
        const result = await run('sh', ['-c', command], { cwd: ROOT, timeout: 120_000 }).then(
          () => 0,
          (error: { code?: number; stdout?: string; stderr?: string }) => {
            outcomes.push(`${String(error.stdout).slice(-2000)}${String(error.stderr).slice(-2000)}`);
            return error.code ?? 1;
          },
        );
        outcomes.push(`${command.slice(0, 60)} → exit ${result}`);
        expect(`exit ${result}`, outcomes.join('\n')).toBe(promise);
        continue;
      }
      const { stdout } = await run('sh', ['-c', command], { timeout: 10_000 });
      const statuses = [...stdout.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => m[1]);
      outcomes.push(`${command.slice(0, 90)} → ${statuses.join(' ')}`);
      expect(statuses.join(', '), `step ${i + 1}\n${outcomes.join('\n')}`).toBe(promise);
    }
  }, 180_000);

  test('after the steps: the articles group is in fallback, and every change is audited with who, why and from where', async () => {
    const res = await fetch(`${demo.urls.admin}/migration`, { headers: { 'x-api-key': demo.adminKey } });
    const report = (await res.json()) as {
      routes: Array<{ name: string; mode: string }>;
      history: Array<{ action: string; route: string; who: string; reason?: string; where?: { ip: string } }>;
    };
    expect(report.routes.map((r) => [r.name, r.mode])).toEqual([
      ['articles', 'fallback'],
      ['profiles', 'shadow'],
    ]);
    expect(report.history.map((h) => [h.action, h.route, h.who, h.where?.ip]).reverse()).toEqual([
      ['mode', 'articles', 'admin', '127.0.0.1'],
      ['promote', 'articles', 'admin', '127.0.0.1'],
      ['mode', 'articles', 'admin', '127.0.0.1'],
      ['rollback', 'articles', 'admin', '127.0.0.1'],
      // The gatehouse command's promote, the same admin key.
      ['promote', 'profiles', 'admin', '127.0.0.1'],
    ]);
  });

  test("the dashboard opens on the operators' port without the key; on the API port it needs the key", async () => {
    const page = await fetch(demo.urls.dashboard);
    expect([page.status, page.headers.get('content-type')]).toEqual([
      200,
      expect.stringMatching(/^text\/html/),
    ]);
    expect(await page.text()).toContain('<');
    const state = (await (await fetch(`${demo.urls.dashboard}/state`)).json()) as {
      routes: Array<{ name: string; mode: string }>;
    };
    expect(state.routes.map((r) => r.name)).toEqual(['articles', 'profiles']);
    const apiPort = demo.urls.dashboard.replace(demo.urls.operators, demo.urls.admin);
    expect((await fetch(apiPort)).status).toBe(401);
    expect((await fetch(apiPort, { headers: { 'x-api-key': demo.adminKey } })).status).toBe(200);
  });

  test('the access logs went to their file, not the terminal: the gateway and the services, one line per request', () => {
    const lines = readFileSync(demo.accessLogFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(20);
    // The articles service answered while the group was remote (its lines carry the gateway's request id).
    expect(lines.some((l) => l.path?.startsWith('/api/articles') && l.annotations === undefined)).toBe(true);
  });

  test.skipIf(NO_CHROMIUM !== undefined && !ON_CI)(
    'the dashboard in Chromium after the steps: both groups as /migration has them, and a Promote click moves the profiles group',
    async () => {
      if (NO_CHROMIUM !== undefined) throw new Error(`CI=true: ${NO_CHROMIUM}`);
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
        ],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const problems: string[] = [];
        page.on('console', (m) => {
          // The browser asks the origin for /favicon.ico on its own (the page names no icon); Conduit's
          // 404 for it is not the dashboard's.
          if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico'))
            problems.push(`console: ${m.text()} (${m.location().url})`);
        });
        page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
        const res = await page.goto(demo.urls.dashboard);
        expect(res?.status()).toBe(200);
        const mode = (route: string) => page.locator(`[data-route="${route}"] [data-field="mode"]`).first();
        await page.locator('[data-route="articles"]').waitFor();
        await page.locator('[data-route="profiles"]').waitFor();
        expect([await mode('articles').textContent(), await mode('profiles').textContent()]).toEqual([
          'fallback',
          'shadow',
        ]);
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: join(ARTIFACTS, 'showcase-dashboard.png'), fullPage: true });
        await page.locator('[data-route="profiles"] button[data-action="promote"]').click();
        await expect.poll(() => mode('profiles').textContent(), { timeout: 5_000 }).toBe('split 10%');
        const migration = (await (await fetch(`${demo.urls.operators}/migration`)).json()) as {
          routes: Array<{ name: string; mode: string; weight: number }>;
        };
        expect(migration.routes.find((r) => r.name === 'profiles')).toMatchObject({
          mode: 'split',
          weight: 10,
        });
        await page.screenshot({ path: join(ARTIFACTS, 'showcase-dashboard-promoted.png'), fullPage: true });
        expect(problems).toEqual([]);
      } finally {
        await browser.close();
      }
    },
    60_000,
  );
});
