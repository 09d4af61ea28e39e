// `npm run demo`: the showcase on localhost with nothing to install — Conduit on Express 4 with
// Gatehouse in front, the two Koa services, data in an embedded PostgreSQL (PGlite, in memory) unless
// DATABASE_URL says otherwise, and a few articles to look at. What it prints is data (demoSteps()):
// each command with the statuses it answers when run in the order printed, on a fresh start; the demo
// test runs exactly those lines.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Database, migrate, openDatabase } from '@gatehousejs/example-realworld-core';
import { ADMIN_PREFIX, CONFIG_FILE, WORKSPACE } from './gatehouse.js';
import { type Stack, startStack } from './stack.js';

/** The RealWorld contract (Postman collection, OpenAPI document), kept in examples/realworld-core/conduit. */
export const FIXTURES = join(WORKSPACE, '..', 'realworld-core', 'conduit');

export interface DemoOptions {
  /** The monolith's port; the services take the next two. A taken port: any free one. Default 3100; 0: free ports. */
  port?: number;
  host?: string;
  /** PostgreSQL; without it, PGlite in memory (or in `pgliteDir`). */
  databaseUrl?: string;
  pgliteDir?: string;
  /** The OpenAPI document the gateway validates against. Default: the RealWorld fixture, when present. */
  openapiFile?: string;
  /** The gateway's configuration, followed for changes. Default: the example's gatehouse.yaml. */
  configFile?: string;
  /** Where the access logs go. Default: a file in the temporary directory (the terminal stays readable). */
  accessLogFile?: string;
  /** The key that opens the admin endpoints. Default: a random one, printed. */
  adminKey?: string;
  /** The HMAC secret of Conduit's tokens (at least 32 bytes). Default: random, so tokens end with the process. */
  tokenSecret?: Uint8Array;
}

export interface Demo {
  readonly urls: {
    readonly monolith: string;
    readonly api: string;
    /** The admin endpoints on the monolith's port: they need the admin key. */
    readonly admin: string;
    /** The admin endpoints on the operators' port: open to whoever reaches it (bound to `host`). */
    readonly operators: string;
    /** The migration dashboard, on the operators' port. */
    readonly dashboard: string;
    readonly articles: string;
    readonly profiles: string;
  };
  /** Opens the admin endpoints (`x-api-key`); made for this run. */
  readonly adminKey: string;
  /** The user the demo signed up, with a token for `Authorization: Token …`. */
  readonly user: {
    readonly username: string;
    readonly email: string;
    readonly password: string;
    readonly token: string;
  };
  /** The article the demo wrote (its slug). */
  readonly slug: string;
  /** Where the OpenAPI document came from, when validation is on. */
  readonly openapiFile: string | undefined;
  /** The Postman collection, when the fixtures are there. */
  readonly collection: string | undefined;
  readonly accessLogFile: string;
  readonly where: string;
  readonly stack: Stack;
  close(): Promise<void>;
}

/** `port` when it is free on `host`, else 0 (any free one). */
async function usable(port: number, host: string): Promise<number> {
  if (port === 0) return 0;
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(0));
    probe.listen(port, host, () => probe.close(() => resolve(port)));
  });
}

/** A port free on `host` now: the operators' listener needs its number before the gateway is made. */
async function freePort(preferred: number, host: string): Promise<number> {
  const port = await usable(preferred, host);
  if (port !== 0) return port;
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port: free } = probe.address() as { port: number };
      probe.close(() => resolve(free));
    });
  });
}

export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const host = options.host ?? '127.0.0.1';
  const base = options.port ?? 3100;
  const db: Database = await openDatabase(
    options.databaseUrl ? { url: options.databaseUrl } : { dataDir: options.pgliteDir },
  );
  await migrate(db);
  const where =
    db.kind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : `PGlite (${options.pgliteDir ?? 'in memory'})`;
  const adminKey = options.adminKey ?? `gh_admin_${randomBytes(12).toString('hex')}`;
  const openapiFile = options.openapiFile ?? join(FIXTURES, 'openapi.yml');
  const openapi = existsSync(openapiFile);
  const collection = join(FIXTURES, 'Conduit.postman_collection.json');
  const accessLogFile = options.accessLogFile ?? join(tmpdir(), `gatehouse-demo-${process.pid}.log`);
  const stack = await startStack({
    db,
    tokenSecret: options.tokenSecret ?? randomBytes(32),
    adminKey,
    // gatehouse.yaml, followed: saving a change applies it (without OpenAPI, the file's contents with
    // that section left out, not followed).
    ...(options.configFile === undefined ? {} : { configFile: options.configFile }),
    openapi: openapi ? openapiFile : false,
    host,
    ports: {
      monolith: await usable(base, host),
      articles: await usable(base === 0 ? 0 : base + 1, host),
      profiles: await usable(base === 0 ? 0 : base + 2, host),
      // The operators' listener: the admin endpoints without the key, for the dashboard in a browser.
      admin: await freePort(base === 0 ? 0 : base + 9, host),
    },
    accessLog: { monolith: accessLogFile, services: { destination: accessLogFile } },
  });
  const urls = {
    monolith: stack.urls.monolith,
    api: `${stack.urls.monolith}/api`,
    admin: `${stack.urls.monolith}${ADMIN_PREFIX}`,
    operators: `${stack.urls.operators!}${ADMIN_PREFIX}`,
    dashboard: `${stack.urls.operators!}${ADMIN_PREFIX}/dashboard`,
    articles: stack.urls.articles,
    profiles: stack.urls.profiles,
  };
  try {
    const { token, slug } = await seed(urls.api);
    return {
      urls,
      adminKey,
      user: { ...DEMO_USER, token },
      slug,
      openapiFile: openapi ? openapiFile : undefined,
      collection: existsSync(collection) ? collection : undefined,
      accessLogFile,
      where,
      stack,
      async close() {
        await stack.close();
        await db.close();
      },
    };
  } catch (error) {
    await stack.close();
    await db.close();
    throw error;
  }
}

const DEMO_USER = { username: 'ada', email: 'ada@example.test', password: 'demo-password' };

/** Something to look at, written through the API as a person would: two users, two articles, a comment. */
async function seed(api: string): Promise<{ token: string; slug: string }> {
  const post = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(`${api}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === undefined ? {} : { authorization: `Token ${token}` }),
      },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`demo seed: POST ${path} answered ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, Record<string, string>>;
  };
  const ada = (await post('/users', { user: DEMO_USER })).user!.token!;
  const bo = (
    await post('/users', { user: { username: 'bo', email: 'bo@example.test', password: 'demo-password' } })
  ).user!.token!;
  const article = (title: string, tagList: string[], token: string) =>
    post(
      '/articles',
      { article: { title, description: `About ${title.toLowerCase()}`, body: '…', tagList } },
      token,
    );
  const welcome = (await article('Welcome to Conduit', ['gatehouse', 'migration'], ada)).article!.slug!;
  await article('Strangler figs', ['migration'], ada);
  await article('Rivers', ['maps'], bo);
  await post(`/articles/${welcome}/comments`, { comment: { body: 'Shadow first, then split.' } }, bo);
  return { token: ada, slug: welcome };
}

// ---------------------------------------------------------------------------------------------
// What to try
// ---------------------------------------------------------------------------------------------

/** One printed command. */
export type DemoStep =
  | {
      readonly kind: 'http';
      readonly method: 'GET' | 'POST';
      /** From the monolith's root: `/api/tags`, `/_gatehouse/migration`. */
      readonly path: string;
      readonly headers?: Readonly<Record<string, string>>;
      /** A JSON body (POST). */
      readonly body?: unknown;
      /** What it answers when the steps run in order on a fresh start. */
      readonly status: number;
      readonly note: string;
    }
  | { readonly kind: 'newman'; readonly note: string }
  /** `npx gatehouse …` against the admin API with the admin key; exits 0. */
  | { readonly kind: 'cli'; readonly args: readonly string[]; readonly note: string };

/** A group of steps under a heading. */
export interface DemoSection {
  readonly title: string;
  readonly steps: readonly DemoStep[];
}

/** What `npm run demo` prints, in order. */
export function demoSections(demo: Demo): DemoSection[] {
  const get = (path: string, status: number, note: string, headers?: Record<string, string>): DemoStep => ({
    kind: 'http',
    method: 'GET',
    path,
    status,
    note,
    ...(headers === undefined ? {} : { headers }),
  });
  const admin = { 'x-api-key': demo.adminKey };
  const act = (action: string, body: Record<string, unknown>, note: string): DemoStep => ({
    kind: 'http',
    method: 'POST',
    path: `${ADMIN_PREFIX}/migration/${action}`,
    headers: { ...admin, 'content-type': 'application/json' },
    body,
    status: 200,
    note,
  });
  const user = { authorization: `Token ${demo.user.token}` };
  const sections: DemoSection[] = [
    {
      title: 'The API through the gateway',
      steps: [
        get('/api/tags', 200, 'version 1 (the default): deprecated, with Deprecation, Sunset and Link'),
        get('/api/tags', 200, 'version 2: each tag with its article count', { 'api-version': '2' }),
        get('/api/tags', 400, 'no version 3: problem+json listing the versions served', {
          'api-version': '3',
        }),
        get('/api/articles/feed', 401, 'no token: problem+json and a Token challenge'),
        get('/api/articles/feed', 200, `${demo.user.username}'s feed: gw.auth() verified the token`, user),
        ...(demo.openapiFile === undefined
          ? []
          : [get('/api/articles?limit=lots', 400, 'OpenAPI: limit must be an integer (openapi.yml)')]),
      ],
    },
    {
      title: 'A backend-for-frontend screen composed from both services (gw.aggregate)',
      steps: [
        get(
          `/api/screens/article/${demo.slug}`,
          200,
          'article + comments + author + their articles, in parallel where possible',
        ),
        get(`/api/screens/article/${demo.slug}`, 200, "again: the author's profile from the gateway's cache"),
        get('/api/screens/article/no-such-article', 404, "the required article call's 404 is the screen's"),
        get(`${ADMIN_PREFIX}/cache`, 200, 'response-cache counters (hits, misses, stored)', admin),
      ],
    },
    {
      title: 'Move the articles group to its service, through the admin API (audited)',
      steps: [
        get(
          `${ADMIN_PREFIX}/routes`,
          200,
          'the migration table: articles, profiles (+ tags), both local',
          admin,
        ),
        act('mode', { route: 'articles', mode: 'shadow', reason: 'demo' }, 'local → shadow'),
        get('/api/articles', 200, 'the monolith answers; a copy goes to the articles service'),
        get(`/api/articles/${demo.slug}`, 200, 'another read, copied and compared'),
        get(
          `${ADMIN_PREFIX}/migration`,
          200,
          'per route: mode, share, diff (compared/different), latency',
          admin,
        ),
        act('promote', { route: 'articles', reason: 'no differences' }, 'shadow → split (10 % of callers)'),
        act(
          'mode',
          { route: 'articles', mode: 'remote', reason: 'demo' },
          '→ remote: the Koa service answers',
        ),
        get(`/api/articles/${demo.slug}`, 200, 'answered by the articles service (same bytes)'),
        act(
          'rollback',
          { route: 'articles', reason: 'demo' },
          'remote → fallback: the monolith answers if it fails',
        ),
        ...(demo.collection === undefined
          ? []
          : [
              {
                kind: 'newman' as const,
                note: 'the whole RealWorld suite against the gateway, as it is now',
              },
            ]),
        get(`${ADMIN_PREFIX}/migration`, 200, 'the audited history of every change is at the end', admin),
      ],
    },
    {
      title: 'The same with the gatehouse command: the profiles group (profiles and tags together)',
      steps: [
        {
          kind: 'cli',
          args: ['migration'],
          note: 'every route: stage, share per side, errors, p99, diff rate',
        },
        {
          kind: 'cli',
          args: ['promote', 'profiles', '--reason', 'demo'],
          note: 'local → shadow; from there its gated promotion walks on by itself (see the dashboard)',
        },
        get('/api/tags', 200, 'answered by the monolith, copied to the profiles service and compared'),
        { kind: 'cli', args: ['migration', 'profiles'], note: 'the group in detail, with its history' },
      ],
    },
  ];
  return sections;
}

const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/** The shell command of a step, as printed. */
export function commandOf(step: DemoStep, demo: Demo): string {
  if (step.kind === 'cli') {
    const args = step.args.map((a) => (/^[\w./:-]+$/.test(a) ? a : quote(a)));
    return ['npx gatehouse', ...args, `--url ${demo.urls.admin}`, `--api-key ${demo.adminKey}`].join(' ');
  }
  if (step.kind === 'newman') {
    return [
      `npx newman run ${quote(demo.collection!)}`,
      `--global-var APIURL=${demo.urls.api}`,
      '--global-var USERNAME=u$(date +%s)',
      '--global-var EMAIL=u$(date +%s)@example.test',
      '--global-var PASSWORD=password',
    ].join(' ');
  }
  const parts = ['curl -i'];
  if (step.method !== 'GET') parts.push(`-X ${step.method}`);
  for (const [name, value] of Object.entries(step.headers ?? {}))
    parts.push(`-H ${quote(`${name}: ${value}`)}`);
  if (step.body !== undefined) parts.push(`-d ${quote(JSON.stringify(step.body))}`);
  const url = `${demo.urls.monolith}${step.path}`;
  parts.push(url.includes('?') ? quote(url) : url);
  return parts.join(' ');
}

/** The promise printed after a command: `200`, or `exit 0` for the suite and the command line. */
export function promiseOf(step: DemoStep): string {
  return step.kind === 'http' ? String(step.status) : 'exit 0';
}

/** Everything `npm run demo` prints once it is up. */
export function instructions(demo: Demo): string {
  const { urls } = demo;
  const lines = [
    '',
    `Conduit (RealWorld) on Express 4 with Gatehouse, and two Koa services — data in ${demo.where}`,
    '',
    `  API                ${urls.api}   (Authorization: Token <jwt>)`,
    `  articles service   ${urls.articles}   (Koa: articles, feed, favorites, comments)`,
    `  profiles service   ${urls.profiles}   (Koa: profiles, follows, tags)`,
    `  dashboard          ${urls.dashboard}   (open it in a browser: live, with Promote / Roll back)`,
    `  admin API          ${urls.admin}/migration   (x-api-key: ${demo.adminKey})`,
    `                     ${urls.operators}/migration   (the operators' port: no key, this machine only)`,
    `  signed-up user     ${demo.user.email} / ${demo.user.password}`,
    `  access logs        ${demo.accessLogFile}`,
    demo.openapiFile === undefined
      ? '  OpenAPI            off (examples/realworld-core/conduit/openapi.yml not found)'
      : `  OpenAPI            ${demo.openapiFile}`,
    '',
    'Run these in order (each line says what it answers); keep the dashboard open beside them:',
  ];
  for (const section of demoSections(demo)) {
    lines.push('', `# ${section.title}`);
    for (const step of section.steps)
      lines.push(`${commandOf(step, demo)}\n    # ${promiseOf(step)} — ${step.note}`);
  }
  lines.push(
    '',
    `# Or edit ${CONFIG_FILE} (a route's mode: shadow | split + weight |`,
    '# fallback | remote; a rate limit; a version) and save: the gateway applies it within a second.',
    '',
    'Ctrl-C drains in-flight requests and stops.',
    '',
  );
  return lines.join('\n');
}
