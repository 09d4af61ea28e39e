// The dashboard as a person sees it, in a real headless Chromium (Debian's `chromium`, driven by
// playwright-core), on Express 5 and Koa 3: the page loads without a console error, shows each
// route with the numbers /migration has after traffic, a Promote click changes the mode on the
// gateway (through the audited admin write API), and a rollback made elsewhere appears live. Screenshots
// (laptop and phone) are kept in test/dashboard/artifacts/. Without chromium the test is skipped with
// the reason, and fails when CI=true.
import { existsSync, mkdirSync } from 'node:fs';
import { addDashboard } from '@gatehousejs/dashboard';
import type { Browser, Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Framework,
  type RoutesApp,
  startRoutesApp,
  startUpstream,
  type Upstream,
} from '../routes/harness.js';
import { waitFor } from '../routes/support.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ON_CI = process.env.CI === 'true';
const missing = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install chromium)`;
if (missing !== undefined) {
  if (ON_CI) throw new Error(`the dashboard browser test needs Chromium on CI: ${missing}`);
  console.warn(`\n*** SKIPPED the dashboard browser test: ${missing} ***\n`);
}
const ARTIFACTS = new URL('./artifacts/', import.meta.url);

/** The frameworks the browser drives (one of each family keeps the test well under a minute). */
const BROWSED: readonly Framework[] = ['express5', 'koa3'];

let browser: Browser | undefined;

beforeAll(async () => {
  if (missing !== undefined) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  // playwright-core gives every launch a fresh temporary profile (--user-data-dir) and removes it
  // on close; it refuses the flag in args.
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 30_000);

afterAll(async () => {
  await browser?.close();
});

/** The text of a field of a route's card. */
const field = (page: Page, route: string, name: string) =>
  page.locator(`[data-route="${route}"] [data-field="${name}"]`).first();

describe.skipIf(missing !== undefined).each(BROWSED)('the dashboard in Chromium (%s)', (framework) => {
  let service: Upstream;
  let app: RoutesApp;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    // The service answers /tags with one field the monolith does not have: a difference to show.
    service = await startUpstream((req, res, body) => {
      res.setHeader('content-type', 'application/json; charset=utf-8');
      const answer = {
        side: 'remote',
        method: req.method,
        url: req.url,
        body: body.length ? body.toString() : null,
      };
      res.end(JSON.stringify(req.url?.startsWith('/tags') ? { ...answer, version: 2 } : answer));
    });
    app = await startRoutesApp(framework, {
      config: { services: { orders: { url: service.url } }, admin: { access: { peers: ['loopback'] } } },
      before: (gw) => [gw.admin()],
      routes: {
        gateIntervalMs: 3_600_000,
        table: [
          { name: 'orders', path: '/orders/*', service: 'orders', mode: 'split', weight: 50, sticky: 'none' },
          {
            name: 'tags',
            path: '/tags',
            service: 'orders',
            mode: 'shadow',
            diff: { ignore: ['/side'] },
            shadow: { noiseSampleRate: 0 },
          },
          // Gated promotion from local: the baseline is set, the verdict passes, the step is held.
          {
            name: 'profiles',
            path: '/profiles/*',
            service: 'orders',
            mode: 'local',
            promotion: { minSamples: 10, holdMs: 600_000 },
          },
        ],
      },
    });
    addDashboard(app.gateway.core, { refreshMs: 200, sampleMs: 250 });
    for (let i = 0; i < 40; i++) await (await request(`${app.url}/orders/${i}`)).body.dump();
    for (let i = 0; i < 15; i++) await (await request(`${app.url}/tags`)).body.dump();
    for (let i = 0; i < 12; i++) await (await request(`${app.url}/profiles/${i}`)).body.dump();
    await waitFor(
      () => app.routes.migration().find((r) => r.name === 'tags')!.diff.stage.compared >= 15,
      5_000,
    );
    app.routes.evaluateGates();
    page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('requestfailed', (r) => {
      // The event stream is cut when the page closes; anything else failing is a problem.
      if (!r.url().endsWith('/events')) problems.push(`request failed: ${r.url()}`);
    });
  }, 30_000);

  afterAll(async () => {
    await page?.close();
    await app?.close();
    await service?.close();
  });

  it('loads with no console error and shows every route with the numbers /migration has', async () => {
    const res = await page.goto(`${app.url}/dashboard`);
    expect(res?.status()).toBe(200);
    await page.locator('[data-route="orders"]').waitFor();
    await page.locator('[data-route="tags"]').waitFor();
    expect(await page.locator('#live-text').textContent()).toBe('live');
    const truth = app.routes.migration().find((r) => r.name === 'orders')!;
    expect(truth.local.stage.requests + truth.remote.stage.requests).toBe(40);
    expect(await field(page, 'orders', 'mode').textContent()).toBe('split 50%');
    expect(await field(page, 'orders', 'requests-local').textContent()).toBe(
      String(truth.local.stage.requests),
    );
    expect(await field(page, 'orders', 'requests-remote').textContent()).toBe(
      String(truth.remote.stage.requests),
    );
    expect(await field(page, 'orders', 'total-local').textContent()).toBe(String(truth.local.total.requests));
    expect(await field(page, 'orders', 'share-remote').textContent()).toBe(
      `remote ${(Math.round(truth.share.remote * 1000) / 10).toFixed(1)}%`,
    );
    // The shadow route: every copy differs on one field, shown with an example.
    expect(await field(page, 'tags', 'diff-rate').textContent()).toBe('100.0%');
    const diffField = page.locator('[data-route="tags"] [data-diff-field="/version"]');
    await expect.poll(() => diffField.textContent()).toMatch(/\/version differs in 15/);
    // The promotion verdict with its gates and the numbers behind them.
    expect(await field(page, 'profiles', 'verdict').textContent()).toBe('verdict pass · 100');
    expect(await field(page, 'profiles', 'status').textContent()).toBe('holding');
    expect(await page.locator('[data-route="profiles"] [data-gate="baseline"]').textContent()).toMatch(
      /baseline pass.*12 local requests of 10 needed/,
    );
    // Two charts per route, drawn by uPlot.
    expect(await page.locator('[data-route="orders"] canvas').count()).toBe(2);
    await page.screenshot({
      path: new URL(`dashboard-${framework}.png`, ARTIFACTS).pathname,
      fullPage: true,
    });
    expect(problems).toEqual([]);
  });

  it('a Promote click changes the mode on the gateway, through the audited admin API', async () => {
    await page.locator('[data-route="orders"] button[data-action="promote"]').click();
    await expect.poll(() => field(page, 'orders', 'mode').textContent(), { timeout: 5_000 }).toBe('fallback');
    expect(app.routes.migration().find((r) => r.name === 'orders')!.mode).toBe('fallback');
    // The audit history (shown as the change feed) names the dashboard as the reason.
    await expect
      .poll(() => page.locator('#events li').first().textContent(), { timeout: 5_000 })
      .toMatch(/promote orders split 50% → fallback by anonymous — dashboard: promote/);
  });

  it('a rollback made elsewhere appears live, without reloading the page', async () => {
    const res = await request(`${app.url}/migration/rollback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ route: 'orders', reason: 'error budget' }),
    });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    await expect
      .poll(() => page.locator('#events li').first().textContent(), { timeout: 5_000 })
      .toMatch(/rollback orders fallback → split 50% by anonymous — error budget/);
    expect(await field(page, 'orders', 'mode').textContent()).toBe('split 50%');
    expect(await page.locator('#events li.new').count()).toBeGreaterThan(0);
    await page.screenshot({ path: new URL(`dashboard-${framework}-rollback.png`, ARTIFACTS).pathname });
    expect(problems).toEqual([]);
  });

  it('is readable on a phone: one column, nothing wider than the screen', async () => {
    const phone = await browser!.newPage({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    try {
      await phone.goto(`${app.url}/dashboard`);
      await phone.locator('[data-route="orders"]').waitFor();
      // Evaluated in the page (a string: this workspace is typed without the DOM library).
      const widths = (await phone.evaluate(
        `({ page: document.documentElement.scrollWidth,
            cards: [...document.querySelectorAll('.card')].map((c) => c.getBoundingClientRect().width) })`,
      )) as { page: number; cards: number[] };
      expect(widths.cards).toHaveLength(3);
      expect(widths.page).toBeLessThanOrEqual(390);
      for (const width of widths.cards) expect(width).toBeLessThanOrEqual(390);
      await phone.screenshot({ path: new URL(`dashboard-${framework}-phone.png`, ARTIFACTS).pathname });
    } finally {
      await phone.close();
    }
  });

  it('a chart with one point spans a sample period on each side; with more, exactly their times', async () => {
    // The page is given a state whose only route has one point, then two 30 s apart: the events
    // stream answered here (the gateway's own points depend on when its sampler ran).
    const real = (await (await request(`${app.url}/dashboard/state`)).body.json()) as {
      routes: Array<{ name: string }>;
      series: Record<string, Array<{ t: number }>>;
      sampleMs: number;
    };
    expect(real.sampleMs).toBe(250);
    const point = real.series.orders!.at(-1)!;
    const stateWith = (points: unknown[]) => ({
      ...real,
      routes: real.routes.filter((r) => r.name === 'orders'),
      series: { orders: points },
    });
    const spans: string[] = [];
    for (const points of [[point], [point, { ...point, t: point.t + 30_000 }]]) {
      const one = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
      try {
        await one.route('**/dashboard/events', (route) =>
          route.fulfill({
            status: 200,
            headers: { 'content-type': 'text/event-stream' },
            body: `event: state\ndata: ${JSON.stringify(stateWith(points))}\n\n`,
          }),
        );
        await one.goto(`${app.url}/dashboard`);
        const charts = one.locator('[data-route="orders"] .chart');
        await expect.poll(() => charts.first().getAttribute('data-x-span')).not.toBeNull();
        for (let i = 0; i < (await charts.count()); i++)
          spans.push((await charts.nth(i).getAttribute('data-x-span')) ?? 'none');
      } finally {
        await one.close();
      }
    }
    // Latency and errors: 2 × 250 ms for the one point (uPlot alone spanned years), then 30 s.
    expect(spans).toEqual(['0.5', '0.5', '30', '30']);
  });

  it('asks the application for no icon: the page names its own', async () => {
    // Without one the browser asks the origin for /favicon.ico (after the page loaded, seconds ago
    // now), and where the application answers 404 that is a console error on the dashboard. The
    // request reaches this app's own catch-all handler, which records it (the browser does not
    // report favicon requests to playwright).
    expect(app.local.map((l) => l.path).filter((path) => path.endsWith('favicon.ico'))).toEqual([]);
    expect(problems).toEqual([]);
    expect(await page.evaluate(`document.querySelector('link[rel~="icon"]')?.getAttribute('href')`)).toMatch(
      /^data:/,
    );
  });
});
