// The showcase as the tests run it: a fresh database, the plain monolith, and the stack (the monolith
// with the gateway gatehouse.yaml describes, and the two Koa services), all on free loopback ports,
// with access logs captured in memory.
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type Database, migrate, openDatabase } from '@gatehousejs/example-realworld-core';
import type { Mode, RouteSpec } from '@gatehousejs/routes';
import { createMonolith, type Monolith, readGatehouseFile, type Stack, startStack } from '../src/index.js';
import { freshDatabase } from './postgres.js';

export const ADMIN_KEY = 'gh_admin_test_only_6a1f0c2d9e';

/** The RealWorld contract (the Postman collection and the OpenAPI document) in examples/realworld-core/conduit. */
export const FIXTURES = join(import.meta.dirname, '..', '..', 'realworld-core', 'conduit');

/** gatehouse.yaml as written, and its route table (every route `local`). */
export const CONFIG = await readGatehouseFile();
export const TABLE = { routes: CONFIG.routes as RouteSpec[] };

/** The route groups of the migration table: one per service. */
export const GROUP_ROUTES = ['articles', 'profiles'] as const;

export type LogLine = Record<string, unknown>;

export interface Showcase {
  db: Database;
  plain: Monolith;
  plainUrl: string;
  stack: Stack;
  /** Access logs, and the gateway's own log (audited admin changes). */
  logs: { monolith: LogLine[]; services: LogLine[]; gateway: LogLine[] };
  /** The gateway's identity-signing key pair. */
  identity: { publicKey: KeyObject; privateKey: KeyObject };
  /** Faults reported by any side (500s, Gatehouse's own). */
  errors: unknown[];
  close(): Promise<void>;
}

const capture = (lines: LogLine[]) => ({
  info(line: object) {
    lines.push(line as LogLine);
  },
});

export interface ShowcaseOptions {
  /** OpenAPI validation at the edge (the file's `openapi`, with the RealWorld document). Default true. */
  openapi?: boolean;
}

export async function startShowcase(
  label: string,
  options: ShowcaseOptions = {},
): Promise<Showcase | string> {
  const database = await freshDatabase(label);
  if (typeof database === 'string') return database;
  const db = await openDatabase({ url: database.url, poolSize: 8 });
  await migrate(db);
  const tokenSecret = randomBytes(32);
  const errors: unknown[] = [];
  const onError = (error: unknown) => errors.push(error);
  const plain = createMonolith({ db, tokenSecret, onError });
  const plainUrl = await plain.listen();
  const logs = { monolith: [] as LogLine[], services: [] as LogLine[], gateway: [] as LogLine[] };
  const identity = generateKeyPairSync('ed25519');
  const stack = await startStack({
    db,
    tokenSecret,
    adminKey: ADMIN_KEY,
    identity,
    // The gateway's access log (gatehouse.yaml's, in its place) written to memory, not to its
    // destination; the services' too.
    accessLog: { monolith: capture(logs.monolith), services: { logger: capture(logs.services) } },
    // Requests checked against the RealWorld OpenAPI document, responses reported, and the services'
    // answers checked as the contract guard (counted per route in /migration).
    openapi: options.openapi === false ? false : join(FIXTURES, 'openapi.yml'),
    onError,
    // The gateway's own lines (an audit line per admin change) kept here, not printed.
    logger: {
      info: (line) => logs.gateway.push(line as LogLine),
      error: (line) => logs.gateway.push(line as LogLine),
    },
  });
  return {
    db,
    plain,
    plainUrl,
    stack,
    logs,
    identity,
    errors,
    async close() {
      await stack.close();
      await plain.close();
      await db.close();
      await database.drop();
    },
  };
}

/** Puts every group of the migration table in one mode (a split at `weight` %), through the admin API. */
export async function setGroupsMode(stack: Stack, mode: Mode, weight?: number): Promise<void> {
  for (const name of GROUP_ROUTES)
    await stack.setMode(name, mode, { ...(weight === undefined ? {} : { weight }), reason: 'test' });
}
