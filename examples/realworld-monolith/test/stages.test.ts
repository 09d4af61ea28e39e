// The RealWorld Postman collection, run with newman against (a) the plain Express 4 monolith, (b) the
// monolith with Gatehouse and every route group `local`, and (c) the same with the articles and
// profiles groups `remote` on the Koa services. Every request and every assertion passes at every
// stage, and the stages execute the same requests and assertions.
import { join } from 'node:path';
import newman, { type NewmanRunSummary } from 'newman';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postgresMissing } from './postgres.js';
import { FIXTURES, type LogLine, type Showcase, setGroupsMode, startShowcase } from './support.js';

interface StageResult {
  stage: string;
  requests: number;
  failedRequests: number;
  assertions: number;
  failedAssertions: number;
  failures: string[];
  /** Requests the Koa services answered during the stage (their access logs). */
  servedByServices: number;
  /** Requests the migration controller counted per side during the stage. */
  local: number;
  remote: number;
  /** Service answers the OpenAPI contract guard judged, and how many broke the contract. */
  contractChecked: number;
  contractViolations: number;
  p50Ms: number;
  p99Ms: number;
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

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const showcase = await startShowcase('newman');
const stages: StageResult[] = [];

if (typeof showcase === 'string') {
  postgresMissing('examples/realworld-monolith/test/newman.test.ts', showcase);
} else {
  describe('the RealWorld suite at every stage', () => {
    const sc: Showcase = showcase;
    beforeAll(() => {
      expect(sc.errors).toEqual([]);
    });
    afterAll(async () => {
      printTable(stages);
      await sc.close();
    });

    const sides = () => {
      const totals = { local: 0, remote: 0, checked: 0, violations: 0 };
      for (const route of sc.stack.monolith.routes!.migration()) {
        totals.local += route.local.total.requests;
        totals.remote += route.remote.total.requests;
        totals.checked += route.contract.total.checked;
        totals.violations += route.contract.total.violations;
      }
      return totals;
    };

    async function stage(name: string, apiUrl: string): Promise<StageResult> {
      const servedBefore = sc.logs.services.length;
      const sidesBefore = sides();
      const started = performance.now();
      const user = `u${stages.length}${Date.now().toString(36)}`;
      const summary = await runNewman(apiUrl, user);
      const wallMs = performance.now() - started;
      const stats = summary.run.stats;
      const times = summary.run.executions
        .map((e) => (e.response as { responseTime?: number } | undefined)?.responseTime ?? Number.NaN)
        .filter(Number.isFinite)
        .sort((a, b) => a - b);
      const result: StageResult = {
        stage: name,
        requests: stats.requests.total ?? 0,
        failedRequests: stats.requests.failed ?? 0,
        assertions: stats.assertions.total ?? 0,
        failedAssertions: stats.assertions.failed ?? 0,
        failures: summary.run.failures.map((f) => `${f.source?.name ?? '?'}: ${f.error?.message ?? f.error}`),
        servedByServices: sc.logs.services.length - servedBefore,
        local: sides().local - sidesBefore.local,
        remote: sides().remote - sidesBefore.remote,
        contractChecked: sides().checked - sidesBefore.checked,
        contractViolations: sides().violations - sidesBefore.violations,
        p50Ms: percentile(times, 50),
        p99Ms: percentile(times, 99),
        wallMs,
      };
      stages.push(result);
      return result;
    }

    function expectGreen(result: StageResult) {
      expect(result.failures).toEqual([]);
      expect(result.failedRequests).toBe(0);
      expect(result.failedAssertions).toBe(0);
      // The collection's 32 requests, every one executed.
      expect(result.requests).toBe(32);
    }

    test('(a) the plain Express 4 monolith passes every request and assertion', async () => {
      const result = await stage('plain monolith', `${sc.plainUrl}/api`);
      expectGreen(result);
      expect(result.servedByServices).toBe(0);
      expect([result.local, result.remote]).toEqual([0, 0]);
    });

    test('(b) with Gatehouse, every group local: the same results, nothing reaches the services', async () => {
      const monolithLinesBefore = sc.logs.monolith.length;
      const result = await stage('gatehouse, local', `${sc.stack.urls.monolith}/api`);
      expectGreen(result);
      expect(result.assertions).toBe(stages[0]!.assertions);
      expect(result.servedByServices).toBe(0);
      // The 26 requests of the articles and profiles groups matched a route and stayed local.
      expect([result.local, result.remote]).toEqual([26, 0]);
      // One access-log line per request, the authenticated ones naming the user.
      const lines = sc.logs.monolith.slice(monolithLinesBefore);
      expect(lines).toHaveLength(result.requests);
      expect(lines.filter((l: LogLine) => l.principal !== undefined).length).toBeGreaterThan(10);
    });

    test('(c) articles and profiles groups remote on the Koa services: the same results', async () => {
      setGroupsMode(sc.stack, 'remote');
      try {
        const result = await stage('gatehouse, remote', `${sc.stack.urls.monolith}/api`);
        expectGreen(result);
        expect(result.assertions).toBe(stages[0]!.assertions);
        // Only the users group (register ×2, login ×2, current user, update user) stays in the
        // monolith; the other 26 requests were answered by the services.
        expect([result.local, result.remote]).toEqual([0, 26]);
        expect(result.servedByServices).toBe(26);
        // The services' answers were checked against openapi.yml and none broke it: all 26, the two
        // bodiless 204s (deleting a comment, an article) judged on their status and headers too.
        expect(result.contractChecked).toBe(26);
        expect(result.contractViolations).toBe(0);
        const migration = sc.stack.monolith.routes!.migration();
        expect(migration.map((r) => [r.name, r.mode])).toEqual([
          ['articles', 'remote'],
          ['profiles', 'remote'],
          ['tags', 'remote'],
        ]);
      } finally {
        setGroupsMode(sc.stack, 'local');
      }
    });

    test('no unexpected server-side errors on any side', () => {
      expect(sc.errors).toEqual([]);
    });
  });
}

function printTable(results: StageResult[]): void {
  const header = [
    'stage',
    'requests',
    'failed',
    'assertions',
    'failed',
    'local',
    'remote',
    'by services',
    'contract',
    'p50 ms',
    'p99 ms',
    'wall ms',
  ];
  const rows = results.map((r) => [
    r.stage,
    String(r.requests),
    String(r.failedRequests),
    String(r.assertions),
    String(r.failedAssertions),
    String(r.local),
    String(r.remote),
    String(r.servedByServices),
    r.contractChecked === 0 ? '-' : `${r.contractViolations}/${r.contractChecked}`,
    String(r.p50Ms),
    String(r.p99Ms),
    r.wallMs.toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(
    ['', line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line), ''].join(
      '\n',
    ),
  );
}
