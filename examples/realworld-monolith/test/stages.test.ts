// The migration shown end to end, with the RealWorld Postman collection (newman) as the referee at
// every stage: the plain Express 4 monolith, then Gatehouse (gatehouse.yaml) with both route groups (articles;
// profiles + tags) moved along local → shadow → split (50 %, sticky) → fallback → fallback with the
// articles service killed → remote (the service back). One database and one set of services for the
// whole run; each stage is one newman run (the split stage four, one user each, to have callers on both
// sides). Every stage passes every request and assertion, and executes the same ones; the controller's
// own numbers (/migration, per stage) say who answered, how the two sides compared and how fast.
import { join } from 'node:path';
import type { MigrationReport, Mode } from '@gatehousejs/routes';
import newman, { type NewmanRunSummary } from 'newman';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postgresMissing } from './postgres.js';
import {
  ADMIN_KEY,
  FIXTURES,
  GROUP_ROUTES,
  type LogLine,
  type Showcase,
  startShowcase,
  TABLE,
} from './support.js';

/** What one route did during a stage, from /migration. */
interface RouteStage {
  route: string;
  mode: Mode;
  weight: number;
  local: number;
  remote: number;
  localErrors: number;
  remoteErrors: number;
  localP50: number | undefined;
  localP99: number | undefined;
  remoteP50: number | undefined;
  remoteP99: number | undefined;
  compared: number;
  different: number;
  /** Local answer pairs the route learned noise from (in total), and the fields found noisy. */
  noiseSamples: number;
  noise: Record<string, number>;
  fallbacks: Record<string, number>;
  contractChecked: number;
  contractViolations: number;
}

interface StageResult {
  stage: string;
  runs: number;
  requests: number;
  failedRequests: number;
  assertions: number;
  failedAssertions: number;
  failures: string[];
  routes: RouteStage[];
  /** Requests the Koa services answered during the stage (their access logs), shadow copies included. */
  servedByServices: number;
  /** The gateway's access-log lines of the stage (one per request; noise samples included). */
  gatewayLines: LogLine[];
  wallMs: number;
}

function runNewman(apiUrl: string, user: string): Promise<NewmanRunSummary> {
  return new Promise((resolve, reject) => {
    newman.run(
      {
        collection: join(FIXTURES, 'Conduit.postman_collection.json'),
        globalVar: [
          { key: 'APIURL', value: apiUrl },
          { key: 'USERNAME', value: user },
          { key: 'EMAIL', value: `${user}@example.test` },
          { key: 'PASSWORD', value: 'password' },
        ],
        reporters: [],
        timeoutRequest: 10_000,
      },
      (error, summary) => (error ? reject(error) : resolve(summary)),
    );
  });
}

const showcase = await startShowcase('stages');
const stages: StageResult[] = [];

if (typeof showcase === 'string') {
  postgresMissing('examples/realworld-monolith/test/stages.test.ts', showcase);
} else {
  describe('the RealWorld suite at every stage of the migration', () => {
    const sc: Showcase = showcase;
    const api = `${sc.stack.urls.monolith}/api`;
    /** Every route's line in /migration, through the admin API. */
    const migration = async () => (await sc.stack.migration()).routes;
    beforeAll(() => {
      expect(sc.errors).toEqual([]);
    });
    afterAll(async () => {
      console.log(stageTable(stages));
      await sc.close();
    });

    /** Shadow copies are compared after the client's answer: wait until none is in flight. */
    async function shadowSettled(): Promise<void> {
      const deadline = Date.now() + 10_000;
      while ((await migration()).some((r) => r.shadow.inflight > 0)) {
        if (Date.now() > deadline) throw new Error('shadow copies still in flight after 10 s');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }

    function routeStage(r: MigrationReport): RouteStage {
      return {
        route: r.name,
        mode: r.mode,
        weight: r.weight,
        local: r.local.stage.requests,
        remote: r.remote.stage.requests,
        localErrors: r.local.stage.errors,
        remoteErrors: r.remote.stage.errors,
        localP50: r.local.stage.latency.p50Ms,
        localP99: r.local.stage.latency.p99Ms,
        remoteP50: r.remote.stage.latency.p50Ms,
        remoteP99: r.remote.stage.latency.p99Ms,
        compared: r.diff.stage.compared,
        different: r.diff.stage.different,
        noiseSamples: r.diff.noiseSamples,
        noise: { ...r.diff.noise },
        fallbacks: { ...r.fallbacks.stage },
        contractChecked: r.contract.stage.checked,
        contractViolations: r.contract.stage.violations,
      };
    }

    /**
     * Moves every route group to `mode` through the admin API, as an operator would (the admin key,
     * `POST /_gatehouse/migration/mode`, audited); each change starts a new stage.
     */
    async function moveGroups(mode: Mode, weight?: number): Promise<void> {
      for (const route of GROUP_ROUTES) {
        const res = await fetch(`${sc.stack.urls.monolith}/_gatehouse/migration/mode`, {
          method: 'POST',
          headers: { 'x-api-key': ADMIN_KEY, 'content-type': 'application/json' },
          body: JSON.stringify({
            route,
            mode,
            ...(weight === undefined ? {} : { weight }),
            reason: 'e2e stage',
          }),
        });
        expect(res.status, await res.clone().text()).toBe(200);
        expect(((await res.json()) as { change: { to: { mode: Mode } } }).change.to.mode).toBe(mode);
      }
    }

    /**
     * Runs the collection `runs` times (one new user each) against `apiUrl`. `mode` starts a new stage
     * on every route group (through the admin API), so /migration's `stage` numbers are this stage's.
     */
    async function stage(
      name: string,
      apiUrl: string,
      mode?: { mode: Mode; weight?: number },
      runs = 1,
    ): Promise<StageResult> {
      if (mode !== undefined) await moveGroups(mode.mode, mode.weight);
      const servedBefore = sc.logs.services.length;
      const gatewayBefore = sc.logs.monolith.length;
      const started = performance.now();
      const summaries: NewmanRunSummary[] = [];
      for (let i = 0; i < runs; i++) {
        summaries.push(await runNewman(apiUrl, `u${stages.length}r${i}${Date.now().toString(36)}`));
      }
      await shadowSettled();
      const wallMs = performance.now() - started;
      const sum = (pick: (s: NewmanRunSummary) => number | undefined) =>
        summaries.reduce((n, s) => n + (pick(s) ?? 0), 0);
      const result: StageResult = {
        stage: name,
        runs,
        requests: sum((s) => s.run.stats.requests.total),
        failedRequests: sum((s) => s.run.stats.requests.failed),
        assertions: sum((s) => s.run.stats.assertions.total),
        failedAssertions: sum((s) => s.run.stats.assertions.failed),
        failures: summaries.flatMap((s) =>
          s.run.failures.map((f) => `${f.source?.name ?? '?'}: ${f.error?.message ?? f.error}`),
        ),
        routes: mode === undefined ? [] : (await migration()).map(routeStage),
        servedByServices: sc.logs.services.length - servedBefore,
        gatewayLines: sc.logs.monolith.slice(gatewayBefore),
        wallMs,
      };
      stages.push(result);
      return result;
    }

    const total = (result: StageResult, pick: (r: RouteStage) => number) =>
      result.routes.reduce((n, r) => n + pick(r), 0);

    /** Every run: the collection's 32 requests and 311 assertions, none failed. */
    function expectGreen(result: StageResult) {
      expect(result.failures).toEqual([]);
      expect([result.failedRequests, result.failedAssertions]).toEqual([0, 0]);
      expect(result.requests).toBe(32 * result.runs);
      expect(result.assertions).toBe(stages[0]!.assertions * result.runs);
    }

    /** The gateway's access-log lines of routed requests the clients sent (not noise samples). */
    const routed = (result: StageResult) =>
      result.gatewayLines.filter((l) => annotation(l, 'gatehouse.route') !== undefined);

    test('plain monolith: every request and assertion passes', async () => {
      const result = await stage('plain monolith', `${sc.plainUrl}/api`);
      expect(result.failures).toEqual([]);
      expect([result.requests, result.failedRequests, result.failedAssertions]).toEqual([32, 0, 0]);
      expect(result.servedByServices).toBe(0);
    });

    test('local: the same results; the 26 requests of the two groups matched a route and stayed in the monolith', async () => {
      const result = await stage('local', api, { mode: 'local' });
      expectGreen(result);
      expect(result.servedByServices).toBe(0);
      expect(result.routes.map((r) => [r.route, r.local, r.remote])).toEqual([
        ['articles', 22, 0],
        ['profiles', 4, 0],
      ]);
      // One access-log line per request, the authenticated ones naming the user.
      // (The admin API calls that moved the groups may log just after the stage began: not counted.)
      const conduitLines = result.gatewayLines.filter((l) => String(l.path).startsWith('/api'));
      expect(conduitLines).toHaveLength(result.requests);
      expect(result.gatewayLines.filter((l) => l.principal !== undefined).length).toBeGreaterThan(10);
    });

    test('shadow: the monolith answers, every read is copied to the services and compared: no differences', async () => {
      const result = await stage('shadow', api, { mode: 'shadow' });
      expectGreen(result);
      const reads = routed(result).filter((l) => l.method === 'GET').length;
      // Every routed GET was copied (writes are not: the database is shared) and compared.
      expect(total(result, (r) => r.compared)).toBe(reads);
      expect(total(result, (r) => r.remote)).toBe(reads);
      expect(result.servedByServices).toBe(reads);
      // The answers agree field by field (noise learned from a second local answer to each read).
      expect(result.routes.map((r) => [r.route, r.different])).toEqual([
        ['articles', 0],
        ['profiles', 0],
      ]);
      // Noise was learned from a second local answer to every copied read (shadow.noiseSampleRate 1
      // in routes.yaml), and no diff.ignore rule hides any field.
      for (const r of result.routes) expect(r.noiseSamples).toBe(r.compared);
      expect(TABLE.routes.every((r) => r.diff?.ignore === undefined)).toBe(true);
      expect(TABLE.routes.map((r) => r.shadow?.noiseSampleRate)).toEqual([1, 1]);
      // The clients were answered by the monolith only.
      expect(routed(result).every((l) => annotation(l, 'gatehouse.migration.side') === 'local')).toBe(true);
    });

    test('split, 50 % sticky by caller: each caller stays on one side, both sides serve', async () => {
      const result = await stage('split 50 %', api, { mode: 'split', weight: 50 }, 4);
      expectGreen(result);
      // Per route, every caller (the user, else the client address) was answered by one side only.
      const sides = new Map<string, Set<unknown>>();
      for (const line of routed(result)) {
        const key = `${annotation(line, 'gatehouse.route')} ${line.principal ?? `ip:${line.client_ip}`}`;
        const seen = sides.get(key) ?? new Set();
        seen.add(annotation(line, 'gatehouse.migration.side'));
        sides.set(key, seen);
      }
      expect([...sides.values()].every((s) => s.size === 1)).toBe(true);
      // Both sides answered (callers are the users this run creates: the same ids on every run).
      expect(total(result, (r) => r.local)).toBeGreaterThan(0);
      expect(total(result, (r) => r.remote)).toBeGreaterThan(0);
      expect(total(result, (r) => r.local + r.remote)).toBe(26 * result.runs);
      expect(result.servedByServices).toBe(total(result, (r) => r.remote));
    });

    test('fallback: the services answer; nothing fell back', async () => {
      const result = await stage('fallback', api, { mode: 'fallback' });
      expectGreen(result);
      expect(result.routes.map((r) => [r.route, r.local, r.remote, r.fallbacks])).toEqual([
        ['articles', 0, 22, {}],
        ['profiles', 0, 4, {}],
      ]);
      expect(result.servedByServices).toBe(26);
    });

    test('fallback with the articles service killed: the monolith answers for it, the suite stays green', async () => {
      await sc.stack.killService('articles');
      const result = await stage('articles killed', api, { mode: 'fallback' });
      expectGreen(result);
      const [articles, profiles] = result.routes;
      // Every articles request fell back to the monolith (refused connections, then the open circuit).
      expect(articles!.local).toBe(22);
      expect(Object.values(articles!.fallbacks).reduce((a, b) => a + b, 0)).toBe(22);
      expect(Object.keys(articles!.fallbacks).every((k) => k === 'connect' || k === 'circuit')).toBe(true);
      // The profiles group still went to its service.
      expect([profiles!.local, profiles!.remote]).toEqual([0, 4]);
      expect(result.servedByServices).toBe(4);
    });

    test('remote: the articles service is back; the services answer everything', async () => {
      await sc.stack.restartService('articles');
      // The gateway's circuit to the killed endpoint lets a probe through after its half-open delay.
      await untilRemoteAnswers(`${api}/articles`);
      const result = await stage('remote', api, { mode: 'remote' });
      expectGreen(result);
      expect(result.routes.map((r) => [r.route, r.local, r.remote, r.remoteErrors])).toEqual([
        ['articles', 0, 22, 0],
        ['profiles', 0, 4, 0],
      ]);
      expect(result.servedByServices).toBe(26);
      // The services' answers were checked against openapi.yml and none broke it.
      expect(total(result, (r) => r.contractChecked)).toBe(26);
      expect(total(result, (r) => r.contractViolations)).toBe(0);
    });

    test('no gate moved a route; every stage change is in the audit history, made with the admin key', async () => {
      const changes = (await migration()).flatMap((r) => r.changes);
      expect(changes.filter((c) => c.by === 'gate')).toEqual([]);
      const res = await fetch(`${sc.stack.urls.monolith}/_gatehouse/migration`, {
        headers: { 'x-api-key': ADMIN_KEY },
      });
      const { history } = (await res.json()) as {
        history: Array<{ action: string; route: string; who: string; to: { mode: Mode }; reason?: string }>;
      };
      const moves = history.filter((h) => h.reason === 'e2e stage').reverse();
      expect(moves.map((h) => [h.route, h.to.mode])).toEqual(
        ['local', 'shadow', 'split', 'fallback', 'fallback', 'remote'].flatMap((mode) =>
          GROUP_ROUTES.map((route) => [route, mode]),
        ),
      );
      expect(moves.every((h) => h.action === 'mode' && h.who === 'admin')).toBe(true);
    });

    test('no unexpected server-side errors on any side', () => {
      expect(sc.errors).toEqual([]);
    });

    /** In fallback mode (still), until a request is answered by the service rather than the monolith. */
    async function untilRemoteAnswers(url: string): Promise<void> {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const before = sc.logs.services.length;
        const res = await fetch(url);
        await res.arrayBuffer();
        if (sc.logs.services.length > before) return;
        if (Date.now() > deadline) throw new Error(`the restarted service got no request in 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  });
}

function annotation(line: LogLine, name: string): unknown {
  return (line.annotations as Record<string, unknown> | undefined)?.[name];
}

const ms = (v: number | undefined) => (v === undefined ? '-' : v < 10 ? v.toFixed(1) : v.toFixed(0));

/** The summary: one row per stage and route group (the plain monolith has no routes). */
function stageTable(results: StageResult[]): string {
  const header = [
    'stage',
    'newman (runs × requests, assertions)',
    'route',
    'local',
    'remote',
    'differences',
    'noise fields/pairs',
    'errors L/R',
    'fallbacks',
    'local p50/p99 ms',
    'remote p50/p99 ms',
  ];
  const rows: string[][] = [];
  for (const r of results) {
    const suite = `${r.failedRequests + r.failedAssertions === 0 ? 'pass' : 'FAIL'} ${r.runs} × ${r.requests / r.runs}, ${r.assertions}`;
    if (r.routes.length === 0) {
      rows.push([r.stage, suite, '-', '-', '-', '-', '-', '-', '-', '-', '-']);
      continue;
    }
    r.routes.forEach((route, i) => {
      const fallbacks = Object.entries(route.fallbacks)
        .map(([reason, n]) => `${n} ${reason}`)
        .join(', ');
      rows.push([
        i === 0 ? r.stage : '',
        i === 0 ? suite : '',
        route.route,
        String(route.local),
        String(route.remote),
        route.compared === 0 ? '-' : `${route.different}/${route.compared}`,
        route.compared === 0 ? '-' : `${Object.keys(route.noise).length}/${route.noiseSamples}`,
        `${route.localErrors}/${route.remoteErrors}`,
        fallbacks === '' ? '-' : fallbacks,
        route.local === 0 ? '-' : `${ms(route.localP50)}/${ms(route.localP99)}`,
        route.remote === 0 ? '-' : `${ms(route.remoteP50)}/${ms(route.remoteP99)}`,
      ]);
    });
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    '',
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map(line),
    '',
  ].join('\n');
}
