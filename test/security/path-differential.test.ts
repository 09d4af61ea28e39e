// The differential test of issue 15: generated request targets, full of every spelling trick, sent as
// raw bytes over keep-alive sockets to real Express 5, Express 4, Koa 3 and Koa 2 (+ @koa/router)
// apps built from one route table (route-apps.ts). Property, on every framework: whenever the
// framework runs the handler written for pattern P, the Gatehouse auth rule, rate-limit route and
// route-table entry written for P all applied to that request; whenever Gatehouse refuses, the answer
// is a 4xx problem+json. Rules at the top of the app refuse nothing and record what applied, so one
// answer shows both the router's choice and Gatehouse's; rules inside the mounted /api router send
// what they take upstream, so a local /api handler answering is itself a violation.
//
// Seeded and reproducible: the seed is printed, and `GATEHOUSE_PATH_SEED=<seed>` replays a run (a
// failing batch prints its own seed). A failure prints fast-check's shrunk counterexample; add the
// target to path-corpus.json, which runs first, every time. `GATEHOUSE_PATH_TARGETS` changes how
// many targets are generated (20,000 per framework by default).
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPathMatcher, normalizePath } from '@gatehousejs/core';
import Router from '@koa/router';
import fc from 'fast-check';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawResponse } from '../support/raw-http.js';
import { pipelined, type RawRequestBytes, rawGet } from './pipeline.js';
import {
  API_KEY,
  type DifferentialApp,
  FRAMEWORKS,
  type Framework,
  IN_API,
  ROUTES,
  startDifferentialApp,
  startRouteLevelApp,
  startUpstream,
  type Variant,
} from './route-apps.js';

/** Generated targets per framework per run (issue 15: at least 20,000). */
const TARGETS = Number(process.env['GATEHOUSE_PATH_TARGETS'] ?? 20_000);
const BATCH = 800;
const SEED = Number(process.env['GATEHOUSE_PATH_SEED'] ?? Math.floor(Math.random() * 0x7fff0000));

const corpus = (
  JSON.parse(readFileSync(new URL('./path-corpus.json', import.meta.url), 'utf8')) as {
    targets: { target: string; why: string }[];
  }
).targets;

// ---------------------------------------------------------------------------------------------
// The generator: targets as byte strings (one character per byte, sent as latin1)
// ---------------------------------------------------------------------------------------------

const utf8Bytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');
const pct = (text: string, lower = false) =>
  [...Buffer.from(text, 'utf8')]
    .map((b) => `%${b.toString(16).padStart(2, '0')[lower ? 'toLowerCase' : 'toUpperCase']()}`)
    .join('');

/** Spellings of one letter that some reader folds, decodes or trims into that letter (encoded, raw). */
function lookalikes(ch: string): { encoded: string[]; raw: string[] } {
  const chars: string[] = [];
  const lower = ch.toLowerCase();
  if (lower >= 'a' && lower <= 'z') chars.push(String.fromCodePoint(0xff41 + lower.charCodeAt(0) - 0x61));
  if (lower === 's') chars.push('\u017f');
  if (lower === 'k') chars.push('\u212a');
  if (lower === 'i') chars.push('\u0131', '\u0130');
  return { encoded: chars.map((c) => pct(c)), raw: chars.map(utf8Bytes) };
}

// Weights keep about half of the targets routable (the control below checks it): most letters are
// spelled plainly, and each target carries a few tricks rather than a pile of them.
const letter = (ch: string): fc.Arbitrary<string> => {
  const options: fc.WeightedArbitrary<string>[] = [
    { weight: 400, arbitrary: fc.constant(ch) },
    { weight: 20, arbitrary: fc.constant(ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase()) },
    { weight: 10, arbitrary: fc.constant(pct(ch)) },
    { weight: 5, arbitrary: fc.constant(pct(ch, true)) },
  ];
  const alike = lookalikes(ch);
  if (alike.encoded.length > 0) {
    options.push({ weight: 5, arbitrary: fc.constantFrom(...alike.encoded) });
    options.push({ weight: 1, arbitrary: fc.constantFrom(...alike.raw) });
  }
  return fc.oneof(...options);
};

const spell = (word: string): fc.Arbitrary<string> =>
  word === '' ? fc.constant('') : fc.tuple(...[...word].map(letter)).map((parts) => parts.join(''));

/** Dot segments, raw, encoded in mixed case, and with parameters. */
const DOTS = [
  '.',
  '..',
  '%2e',
  '%2E',
  '%2e%2e',
  '%2E%2e',
  '.%2E',
  '%2e.',
  '..;',
  '..;x=1',
  '.;',
  '%2e%2e%3b',
];
/** Segments that are data to one reader and structure, garbage or nothing to another. */
const JUNK = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.constantFrom(
      'zz',
      'public',
      '~',
      "'",
      '%27',
      '*',
      ':x',
      '%7E',
      '|',
      '%C3%A9',
      '%c3%a9',
      '%C2%A0',
      '%EF%BB%BF',
      '%EF%BD%81',
      '%3b',
      '%3F',
      '%23',
      '%25',
      '%20',
      ';x=1',
    ),
  },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '%00',
      '%ff',
      '%',
      '%zz',
      '%C0%AE',
      '%C0%AF',
      '%E0%80%AE',
      '%2f',
      '%2F',
      '%5c',
      '\\',
      '%09',
    ),
  },
  // Raw bytes Node's parser refuses (answered by gw.serve() with a problem).
  { weight: 1, arbitrary: fc.constantFrom(utf8Bytes('é'), '\u00a0', '\t', utf8Bytes('\ufeff'), ' ') },
);
const SUFFIX = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(';x=1', ';', '%3B', '%3F', '%23', '%C2%A0', '.', '%2e', '/') },
  { weight: 1, arbitrary: fc.constantFrom('#x', '#', '?q', '%00', '\u00a0') },
);
const SEPARATOR: fc.Arbitrary<string> = fc.oneof(
  { weight: 40, arbitrary: fc.constant('/') },
  { weight: 2, arbitrary: fc.constantFrom('//', '/./', '/%2e/', '/;/', '///') },
  { weight: 1, arbitrary: fc.constantFrom('\\', '%2f', '%2F', '%5C', '/\u00a0/') },
);

/** The words of paths the table routes (parameter values included), which the tricks are applied to. */
const TEMPLATES: string[][] = [
  [],
  ['admin'],
  ['admin', 'x'],
  ['admin', 'x', 'y'],
  ['users', '42'],
  ['users', '42', 'posts'],
  ['files'],
  ['files', 'a', 'b'],
  ['a.b', 'c'],
  ['x', 'secret'],
  ['admin', 'secret'],
  ['api'],
  ['api', 'orders'],
  ['api', 'orders', '7'],
  ['api', 'v1', 'status'],
  ['api', 'v1'],
  ['api', 'zzz', 'q'],
  ['public'],
  ['nope', 'x'],
];

const segment = (word: string): fc.Arbitrary<string> =>
  fc
    .tuple(
      spell(word),
      fc.oneof({ weight: 12, arbitrary: fc.constant('') }, { weight: 1, arbitrary: SUFFIX }),
    )
    .map(([w, suffix]) => w + suffix);

/** A detour: a segment followed by a dot segment that climbs back out of it (`/zz/..`). */
const detour = fc.tuple(
  fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...TEMPLATES.flat()) }, { weight: 1, arbitrary: JUNK }),
  fc.constantFrom(...DOTS),
  fc.nat(),
);

/** A request target as a byte string. */
const target: fc.Arbitrary<string> = fc.constantFrom(...TEMPLATES).chain((words) =>
  fc
    .record({
      prefix: fc.oneof(
        { weight: 60, arbitrary: fc.constant('') },
        { weight: 1, arbitrary: fc.constant('http://differential.test') },
      ),
      lead: fc.oneof(
        { weight: 20, arbitrary: fc.constant('/') },
        { weight: 1, arbitrary: fc.constantFrom('//', '/./') },
      ),
      segments: words.length === 0 ? fc.constant([] as string[]) : fc.tuple(...words.map(segment)),
      separators: fc.array(SEPARATOR, { minLength: 8, maxLength: 8 }),
      detours: fc.oneof(
        { weight: 2, arbitrary: fc.constant([]) },
        { weight: 1, arbitrary: fc.array(detour, { minLength: 1, maxLength: 2 }) },
      ),
      extras: fc.oneof(
        { weight: 4, arbitrary: fc.constant([]) },
        {
          weight: 1,
          arbitrary: fc.array(fc.tuple(fc.oneof(JUNK, fc.constantFrom(...DOTS, '')), fc.nat()), {
            maxLength: 1,
          }),
        },
      ),
      trailing: fc.oneof(
        { weight: 16, arbitrary: fc.constant('') },
        {
          weight: 4,
          arbitrary: fc.constantFrom('/', '//', '/.', '/..', '/%2e', ';x', '%23', '%20', '%C2%A0'),
        },
        { weight: 1, arbitrary: fc.constantFrom('#frag', '\u00a0') },
      ),
      query: fc.oneof(
        { weight: 8, arbitrary: fc.constant('') },
        { weight: 1, arbitrary: fc.constantFrom('?a=1', '?a=/../admin', '?', "?q='%27", '?x=%2e%2e#y') },
      ),
      fragment: fc.oneof(
        { weight: 30, arbitrary: fc.constant('') },
        { weight: 1, arbitrary: fc.constantFrom('#', '#x', '#/../admin') },
      ),
    })
    .map(({ prefix, lead, segments, separators, detours, extras, trailing, query, fragment }) => {
      const parts = [...segments];
      for (const [junk, dots, at] of detours) parts.splice(at % (parts.length + 1), 0, junk, dots);
      for (const [extra, at] of extras) parts.splice(at % (parts.length + 1), 0, extra);
      const path = parts.map((part, i) => (i === 0 ? '' : separators[i % separators.length]) + part).join('');
      return `${prefix}${lead}${path}${trailing}${query}${fragment}`;
    }),
);

// ---------------------------------------------------------------------------------------------
// What Gatehouse itself would decide (for the bare routers' statistic only)
// ---------------------------------------------------------------------------------------------

const matchers = ROUTES.map((r) => ({ id: r.id, match: createPathMatcher(r.gate) }));

/** The pattern Gatehouse's rules pick for a raw target, or undefined (none, or refused). */
function gatehouseDecision(raw: string): string | undefined {
  if (raw.includes('#')) return undefined;
  const q = raw.indexOf('?');
  let path: string;
  try {
    path = normalizePath(q === -1 ? raw : raw.slice(0, q));
  } catch {
    return undefined;
  }
  return matchers.find((m) => m.match(path))?.id;
}

// ---------------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------------

const header = (answer: RawResponse, name: string): string | undefined => answer.headers[name]?.[0];
const handlerOf = (answer: RawResponse) => (answer.status === 200 ? header(answer, 'x-handler') : undefined);
const isProblem = (answer: RawResponse) =>
  /^application\/problem\+json/.test(header(answer, 'content-type') ?? '') &&
  typeof (answer.json as { code?: unknown } | undefined)?.code === 'string';
const policyNames = (answer: RawResponse) =>
  [...(header(answer, 'ratelimit-policy') ?? '').matchAll(/"([^"]+)";/g)].map((m) => m[1]);

interface Answers {
  rules: RawResponse;
  inner: RawResponse;
}

/** What is wrong with one target's answers on one framework; empty when nothing is. */
function violations(a: Answers): string[] {
  const found: string[] = [];
  for (const variant of ['rules', 'inner'] as const) {
    const answer = a[variant];
    if (answer.empty) found.push(`${variant}: the connection closed without an answer`);
    else if (answer.status >= 500)
      found.push(`${variant}: ${answer.status} ${answer.body.toString('latin1').slice(0, 200)}`);
    else if (answer.status >= 400 && !isProblem(answer))
      found.push(`${variant}: ${answer.status} is not problem+json`);
  }
  // Every rule at the top of the app, none refusing: the handler the router chose must be the
  // pattern every capability applied.
  const routed = handlerOf(a.rules);
  const entry = header(a.rules, 'x-route-entry');
  const authRule = header(a.rules, 'x-auth-rule');
  const policies = policyNames(a.rules);
  if (routed !== undefined) {
    if (entry !== routed) found.push(`rules: the router ran '${routed}', the route table applied '${entry}'`);
    if (authRule !== routed) found.push(`rules: the router ran '${routed}', auth applied '${authRule}'`);
    if (!policies.includes(routed))
      found.push(`rules: the router ran '${routed}', rate limit applied [${policies}]`);
  } else if (entry !== undefined && (authRule !== entry || !policies.includes(entry))) {
    found.push(`rules: the route table applied '${entry}', auth '${authRule}', rate limit [${policies}]`);
  }
  // The same rules inside the /api router, made after the framework routed: a request they did not
  // send upstream must not reach a handler in /api, and what they did send is what the router chose.
  const innerLocal = handlerOf(a.inner);
  if (innerLocal !== undefined && IN_API.has(innerLocal))
    found.push(`inner: the local handler '${innerLocal}' ran inside /api, no route-table entry applied`);
  const sentUp = a.inner.status === 200 ? header(a.inner, 'x-route') : undefined;
  if (sentUp !== undefined) {
    if (sentUp !== routed)
      found.push(`inner: the route table sent '${sentUp}' upstream, the router runs '${routed}'`);
    if (header(a.inner, 'x-auth-rule') !== sentUp)
      found.push(
        `inner: the route table sent '${sentUp}' upstream, auth applied '${header(a.inner, 'x-auth-rule')}'`,
      );
    if (!policyNames(a.inner).includes(sentUp))
      found.push(`inner: the route table sent '${sentUp}' upstream, rate limit [${policyNames(a.inner)}]`);
  }
  return found;
}

interface Tally {
  targets: number;
  routed: number;
  rewrittenAndRouted: number;
  refused: number;
  /** Targets also sent to the bare frameworks (a sample: they feed the controls only). */
  bareTargets: number;
  /** Of those, targets a bare router sent to a handler. */
  bareRouted: number;
  /** Of those, targets a bare router sends to a handler other than the one Gatehouse's rules pick. */
  bareDisagrees: number;
  bareExamples: string[];
}

const VARIANTS: readonly Variant[] = ['bare', 'rules', 'inner'];
const apps = new Map<string, DifferentialApp>();
let upstream: Awaited<ReturnType<typeof startUpstream>>;
const tallies = new Map<Framework, Tally>(
  FRAMEWORKS.map((fw) => [
    fw,
    {
      targets: 0,
      routed: 0,
      rewrittenAndRouted: 0,
      refused: 0,
      bareTargets: 0,
      bareRouted: 0,
      bareDisagrees: 0,
      bareExamples: [],
    },
  ]),
);

/** Sends every target to every variant of one framework's app; returns each target's violations. */
/** How many targets per framework the bare frameworks also get (the disagreement statistic). */
const BARE_SAMPLE = 2_000;

async function check(
  framework: Framework,
  targets: readonly string[],
  requests: readonly RawRequestBytes[],
): Promise<Map<string, string[]>> {
  const tally = tallies.get(framework)!;
  const sendTo = (variant: Variant) => pipelined(apps.get(`${framework}/${variant}`)!.port, requests);
  const withBare = tally.bareTargets < BARE_SAMPLE;
  const [bare, rules, inner] = await Promise.all([
    withBare ? sendTo('bare') : undefined,
    sendTo('rules'),
    sendTo('inner'),
  ]);
  const failures = new Map<string, string[]>();
  targets.forEach((raw, i) => {
    const answers = { rules: rules[i]!, inner: inner[i]! };
    const found = violations(answers);
    if (found.length > 0) failures.set(raw, found);
    tally.targets++;
    if (handlerOf(answers.rules) !== undefined) {
      tally.routed++;
      // The target the router dispatched on, from the root: not the one sent, so Gatehouse rewrote it.
      const seen = (answers.rules.json as { url?: string } | undefined)?.url;
      if (seen !== undefined && seen !== raw && !raw.startsWith('http:')) tally.rewrittenAndRouted++;
    }
    if (answers.rules.status === 400) tally.refused++;
    if (bare === undefined) return;
    tally.bareTargets++;
    const bareHandler = handlerOf(bare[i]!);
    if (bareHandler !== undefined) tally.bareRouted++;
    if (bareHandler !== undefined && bareHandler !== gatehouseDecision(raw)) {
      tally.bareDisagrees++;
      if (tally.bareExamples.length < 5) tally.bareExamples.push(`${JSON.stringify(raw)} → ${bareHandler}`);
    }
  });
  return failures;
}

const describeFailures = (framework: Framework, failures: Map<string, string[]>) =>
  [...failures]
    .map(([raw, found]) => `${framework} ${JSON.stringify(raw)}:\n    ${found.join('\n    ')}`)
    .join('\n');

beforeAll(async () => {
  upstream = await startUpstream();
  for (const framework of FRAMEWORKS) {
    for (const variant of VARIANTS) {
      apps.set(`${framework}/${variant}`, await startDifferentialApp(framework, variant, upstream.port));
    }
  }
  console.log(`path differential: seed ${SEED} (replay with GATEHOUSE_PATH_SEED=${SEED})`);
});

afterAll(async () => {
  await Promise.all([...apps.values()].map((app) => app.close()));
  await upstream?.close();
  for (const [framework, t] of tallies) {
    console.log(
      `path differential ${framework}: ${t.targets} targets, ${t.routed} reached a handler ` +
        `(${t.rewrittenAndRouted} after a rewrite), ${t.refused} refused with 400; without Gatehouse ` +
        `the router disagreed with Gatehouse's rules on ${t.bareDisagrees} of ${t.bareTargets}, e.g. ` +
        t.bareExamples.slice(0, 3).join(', '),
    );
  }
});

describe('the path a framework routes is the path Gatehouse decides on', () => {
  it('holds for every target of the corpus, on every framework', async () => {
    const targets = corpus.map((entry) => entry.target);
    const requests = targets.map((t) => rawGet(t, { 'x-api-key': API_KEY }));
    const results = await Promise.all(FRAMEWORKS.map((fw) => check(fw, targets, requests)));
    const report = results.map((failures, i) => describeFailures(FRAMEWORKS[i]!, failures)).filter(Boolean);
    expect(report.join('\n')).toBe('');
  });

  it(`holds for ${TARGETS.toLocaleString('en')} generated targets per framework (seed ${SEED})`, async () => {
    const before = new Map([...tallies].map(([fw, t]) => [fw, t.targets]));
    const checked = () => tallies.get(FRAMEWORKS[0]!)!.targets - before.get(FRAMEWORKS[0]!)!;
    const batches = fc.array(target, { minLength: 1, maxLength: BATCH, size: 'max' });
    // One batch per fast-check run, each run with its own seed (SEED, SEED + 1, …) until enough
    // targets were checked: a failing run prints its seed, and GATEHOUSE_PATH_SEED=<it> replays it first.
    for (let run = 0; checked() < TARGETS; run++) {
      await fc.assert(
        fc.asyncProperty(batches, async (batch) => {
          const requests = batch.map((t) => rawGet(t, { 'x-api-key': API_KEY }));
          const results = await Promise.all(FRAMEWORKS.map((fw) => check(fw, batch, requests)));
          const report = results
            .map((failures, i) => describeFailures(FRAMEWORKS[i]!, failures))
            .filter(Boolean);
          if (report.length > 0) throw new Error(report.join('\n'));
        }),
        { seed: SEED + run, numRuns: 1 },
      );
    }
    for (const framework of FRAMEWORKS) {
      const t = tallies.get(framework)!;
      const generated = t.targets - before.get(framework)!;
      expect(generated, framework).toBeGreaterThanOrEqual(TARGETS);
      // CONTROLS. The generated spellings reach handlers, on the bare framework (no Gatehouse) and
      // with every rule in place (which refuse nothing), many of them only after Gatehouse rewrote
      // the target: the property was exercised on routed requests, not vacuously on 404s and 400s.
      expect(
        t.bareRouted / t.bareTargets,
        `${framework}: share routed by the bare framework`,
      ).toBeGreaterThan(0.3);
      expect(t.routed / t.targets, `${framework}: share routed with Gatehouse`).toBeGreaterThan(0.3);
      expect(t.rewrittenAndRouted / t.targets, `${framework}: share rewritten, then routed`).toBeGreaterThan(
        0.1,
      );
      // And a bare router disagrees with Gatehouse's rules on a share of them: the class of issue 15
      // (a handler runs whose rule does not apply) is in what the generator draws.
      expect(t.bareDisagrees / t.bareTargets, `${framework}: bare-router disagreements`).toBeGreaterThan(
        0.02,
      );
    }
  }, 600_000);
});

describe('Gatehouse as route-level middleware', () => {
  it.each(FRAMEWORKS)(
    '%s: refuses what the router matched in a spelling it can no longer rewrite; at the top it rewrites',
    async (framework) => {
      const targets = ['/files/a/b', '/files/a/', '/files/a/../b', '/files/%61', '/files//b', '/files/a;x=1'];
      const answers = async (where: 'route' | 'top') => {
        const app = await startRouteLevelApp(framework, where);
        try {
          return (
            await pipelined(
              app.port,
              targets.map((t) => rawGet(t)),
            )
          ).map((a) =>
            a.status === 200 ? a.json : `${a.status} ${(a.json as { code?: string } | undefined)?.code}`,
          );
        } finally {
          await app.close();
        }
      };
      const refused = '400 GH_PATH_NOT_CANONICAL';
      expect(await answers('route')).toEqual([
        { path: '/files/a/b', url: '/files/a/b' },
        { path: '/files/a', url: '/files/a/' },
        refused,
        refused,
        refused,
        refused,
      ]);
      expect(await answers('top')).toEqual([
        { path: '/files/a/b', url: '/files/a/b' },
        { path: '/files/a', url: '/files/a/' },
        { path: '/files/b', url: '/files/b' },
        { path: '/files/a', url: '/files/a' },
        { path: '/files/b', url: '/files/b' },
        { path: '/files/a', url: '/files/a' },
      ]);
    },
  );
});

describe('Gatehouse inside a mounted router', () => {
  it.each(FRAMEWORKS)(
    '%s: decides on the whole path, and refuses an absolute-form target',
    async (framework) => {
      // mergeSlashes off: '/files' + 'http://h/a' would read as a canonical path of its own.
      const app = await startRouteLevelApp(framework, 'mount', { paths: { mergeSlashes: false } });
      try {
        const answers = await pipelined(
          app.port,
          ['/files/a/b', '/files/a/../b', 'http://differential.test/files/a'].map((t) => rawGet(t)),
        );
        expect(
          answers.map((a) =>
            a.status === 200 ? a.json : `${a.status} ${(a.json as { code?: string }).code}`,
          ),
        ).toEqual([
          { path: '/files/a/b', url: '/files/a/b' },
          '400 GH_PATH_NOT_CANONICAL',
          '400 GH_PATH_INVALID',
        ]);
      } finally {
        await app.close();
      }
    },
  );
});

describe('a known hazard outside Gatehouse', () => {
  it("a prefixed @koa/router runs use(mw) without a path only for the prefix's own case", async () => {
    // @koa/router 15 compiles that middleware's path as a case-sensitive regular expression while its
    // routes ignore case: '/API/orders/7' runs the route and skips the middleware, Gatehouse's or
    // any other. So the core README says: mount Gatehouse with app.use(), or use('', mw). When this
    // test fails, @koa/router has fixed it; drop the warning.
    const app = new Koa();
    const router = new Router({ prefix: '/api' });
    router.use((ctx, next) => {
      ctx.set('x-guard', 'ran');
      return next();
    });
    router.use('', (ctx, next) => {
      ctx.set('x-guard-with-path', 'ran');
      return next();
    });
    router.get('/orders/:id', (ctx) => {
      ctx.body = { order: ctx.params['id'] };
    });
    app.use(router.routes());
    const server = createServer(app.callback()).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const [lower, upper] = await pipelined((server.address() as AddressInfo).port, [
        rawGet('/api/orders/7'),
        rawGet('/API/orders/7'),
      ]);
      expect([lower!.status, lower!.headers['x-guard'], lower!.headers['x-guard-with-path']]).toEqual([
        200,
        ['ran'],
        ['ran'],
      ]);
      expect([upper!.status, upper!.headers['x-guard'], upper!.headers['x-guard-with-path']]).toEqual([
        200,
        undefined,
        ['ran'],
      ]);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
