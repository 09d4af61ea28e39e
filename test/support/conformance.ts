// The conformance runner: every scenario goes through the app built from the same specification on
// every supported framework (Express 5 and 4, Koa 3 and 2), over real sockets; each answer must meet
// the expectation and all must match the first framework's answer.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type AppSpec, closeAll, FRAMEWORKS, type Framework, type RunningApp, startAll } from './apps.js';
import { type RawRequest, type RawResponse, request, sendRaw } from './raw-http.js';

export interface Expectation {
  status: number;
  /** Expected response headers: exact string, RegExp, or null for "absent". */
  headers?: Record<string, string | RegExp | null>;
  /** The exact JSON body, or a function asserting on the parsed body. */
  body?: unknown;
  /** A problem+json with this code whose `status` equals the response status. */
  problem?: string;
  /** Substrings that must not appear anywhere in the response (secrets, stack frames). */
  absent?: string[];
}

/** A request sent before a scenario's own, to the same app; checked when it names an expectation. */
export type Step = RawRequest | { request: RawRequest; expect: Expectation };

export interface Scenario {
  name: string;
  /** A request to serialise, or raw bytes (`{port}` is replaced by the server's port). */
  request: RawRequest | { raw: string | Buffer };
  expect: Expectation;
  /**
   * Requests sent to the same app first, in order (to spend a rate-limit bucket, say). Their answers
   * are checked against their own expectation, if any, but not compared across frameworks.
   */
  before?: Step[];
  /**
   * Numbers read from the clock (seconds to a reset, an epoch second) in the answer: the first group
   * of each pattern, matched on the canonical answer, may differ by one between the frameworks, since
   * their requests are not sent in the same instant. Everything else must still be identical.
   */
  clock?: RegExp[];
}

export interface Suite {
  name: string;
  app: AppSpec;
  scenarios: Scenario[];
}

const IGNORED = new Set(['date', 'keep-alive']);
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
// Tokens signed per request (the forwarded identity) carry their own iat and jti.
const SIGNED_TOKEN = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/g;

async function send(app: RunningApp, req: Scenario['request']): Promise<RawResponse> {
  if ('raw' in req) {
    const raw =
      typeof req.raw === 'string'
        ? Buffer.from(req.raw.replaceAll('{port}', String(app.port)), 'latin1')
        : req.raw;
    return inSpecTerms(app, await sendRaw(app.port, raw));
  }
  return inSpecTerms(app, await request(app.port, req));
}

/**
 * The route probe's `x-matched-route` in the spec's template syntax: the one part of an answer that is
 * spelled differently per framework on purpose (Express 4 reports `/view/*` for `/view{/*rest}`).
 */
function inSpecTerms(app: RunningApp, res: RawResponse): RawResponse {
  const routes = res.headers['x-matched-route'];
  if (routes !== undefined) res.headers['x-matched-route'] = routes.map((r) => app.specRoute(r));
  return res;
}

async function runSteps(app: RunningApp, steps: readonly Step[], label: string): Promise<void> {
  for (const [i, step] of steps.entries()) {
    const checked = 'request' in step;
    const res = await request(app.port, checked ? step.request : step);
    if (checked) check(res, step.expect, `${label} before[${i}]`);
    else expect(res.empty, `${label} before[${i}]: the server closed without answering`).toBe(false);
  }
}

/** What must be identical across frameworks: generated ids and signed tokens masked, volatile headers dropped. */
export function canonical(res: RawResponse): string {
  const headers = Object.entries(res.headers)
    .filter(([name]) => !IGNORED.has(name))
    .flatMap(([name, values]) => values.map((v) => `${name}: ${v}`))
    .sort();
  return [`${res.status}`, ...headers, '', res.body.toString('utf8')]
    .join('\n')
    .replace(UUID, '<uuid>')
    .replace(SIGNED_TOKEN, '<jwt>');
}

export function check(res: RawResponse, want: Expectation, label: string): void {
  const text = res.body.toString('utf8');
  expect(res.empty, `${label}: the server closed without answering`).toBe(false);
  expect(res.status, `${label}: status (body: ${text.slice(0, 300)})`).toBe(want.status);
  for (const [name, value] of Object.entries(want.headers ?? {})) {
    const got = res.headers[name]?.join(', ');
    if (value === null) expect(got, `${label}: header ${name} must be absent`).toBeUndefined();
    else if (value instanceof RegExp) expect(got, `${label}: header ${name}`).toMatch(value);
    else expect(got, `${label}: header ${name}`).toBe(value);
  }
  if (want.problem !== undefined) {
    expect(res.headers['content-type']?.[0], `${label}: problem content type`).toBe(
      'application/problem+json',
    );
    const body = res.json as Record<string, unknown>;
    expect(body.code, `${label}: problem code`).toBe(want.problem);
    expect(body.status, `${label}: problem status`).toBe(want.status);
    expect(body.type, `${label}: problem type`).toBe(`urn:gatehouse:error:${want.problem}`);
    expect(typeof body.title, `${label}: problem title`).toBe('string');
    expect(typeof body.detail, `${label}: problem detail`).toBe('string');
    expect(text, `${label}: no stack trace`).not.toMatch(/\bat .+:\d+:\d+|node:internal|"stack"/);
  }
  if (typeof want.body === 'function')
    (want.body as (body: unknown, res: RawResponse) => void)(res.json, res);
  else if (want.body !== undefined) expect(res.json, `${label}: body`).toEqual(want.body);
  for (const secret of want.absent ?? []) {
    expect(text.includes(secret), `${label}: '${secret}' leaked in the body`).toBe(false);
    expect(JSON.stringify(res.headers).includes(secret), `${label}: '${secret}' leaked in a header`).toBe(
      false,
    );
  }
}

/**
 * Asserts two answers are identical after {@link canonical}, except for the `clock` numbers, which
 * may differ by one (see {@link Scenario.clock}). `names` label the two answers in failures.
 */
export function expectSame(
  first: RawResponse,
  second: RawResponse,
  clock: readonly RegExp[] = [],
  names: readonly [string, string] = ['the first', 'the second'],
): void {
  let left = canonical(first);
  let right = canonical(second);
  for (const pattern of clock) {
    const flags = new Set([...pattern.flags, 'g', 'd']);
    const global = new RegExp(pattern.source, [...flags].join(''));
    const [a, b] = [clockValues(left, global), clockValues(right, global)];
    expect(b.values.length, `clock values ${global} in both answers`).toBe(a.values.length);
    for (const [i, n] of a.values.entries()) {
      const m = b.values[i]!;
      expect(
        Math.abs(n - m),
        `clock value ${global} #${i}: ${names[0]} ${n}, ${names[1]} ${m}`,
      ).toBeLessThanOrEqual(1);
    }
    left = a.masked;
    right = b.masked;
  }
  expect(right, `${names[1]} answered differently from ${names[0]}`).toBe(left);
}

/** Asserts every framework's answer is identical to the first framework's (see {@link expectSame}). */
export function expectAllSame(
  answers: Readonly<Partial<Record<Framework, RawResponse>>>,
  clock: readonly RegExp[] = [],
): void {
  const [first, ...others] = FRAMEWORKS;
  expect(answers[first!], `an answer from ${first}`).toBeDefined();
  for (const fw of others) {
    expect(answers[fw], `an answer from ${fw}`).toBeDefined();
    expectSame(answers[first!]!, answers[fw]!, clock, [first!, fw]);
  }
}

/** The numbers in each match's first group, and the text with each of them replaced by `<clock>`. */
function clockValues(text: string, pattern: RegExp): { values: number[]; masked: string } {
  const values: number[] = [];
  let masked = '';
  let at = 0;
  for (const match of text.matchAll(pattern)) {
    const [start, end] = match.indices?.[1] ?? [0, 0];
    if (end === start) continue;
    values.push(Number(match[1]));
    masked += `${text.slice(at, start)}<clock>`;
    at = end;
  }
  return { values, masked: masked + text.slice(at) };
}

/** Registers a suite: its app starts once per framework, every scenario runs on each and is compared. */
export function conformance(suite: Suite): void {
  describe(suite.name, () => {
    let apps = {} as Record<Framework, RunningApp>;
    beforeAll(async () => {
      apps = await startAll(suite.app);
    });
    afterAll(async () => {
      await closeAll(apps);
    });
    for (const scenario of suite.scenarios) {
      test(scenario.name, async () => {
        const results = {} as Record<Framework, RawResponse>;
        for (const fw of FRAMEWORKS) {
          await runSteps(apps[fw], scenario.before ?? [], fw);
          results[fw] = await send(apps[fw], scenario.request);
          check(results[fw], scenario.expect, fw);
        }
        expectAllSame(results, scenario.clock);
        // The process survived and still serves.
        for (const fw of FRAMEWORKS) {
          const alive = await request(apps[fw].port, { path: '/hello' });
          expect(alive.status, `${fw} still serves after the scenario`).toBe(200);
        }
      });
    }
  });
}
