// The showcase as the tests run it: a fresh database, the plain monolith, and the stack (the monolith
// with Gatehouse, and the two Koa services), all on free loopback ports, with access logs captured.
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashApiKey } from '@gatehousejs/auth';
import { type Database, migrate, openDatabase } from '@gatehousejs/example-realworld-core';
import { type Mode, parseTableText, type RouteTable } from '@gatehousejs/routes';
import { createMonolith, type Monolith, type Stack, startStack } from '../src/index.js';
import { freshDatabase } from './postgres.js';

export const ADMIN_KEY = 'gh_admin_test_only_6a1f0c2d9e';

/** The RealWorld fixtures (the Postman collection and the OpenAPI document), beside the repository. */
export const FIXTURES = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'fixtures', 'realworld');

/** The example's own migration table (`routes.yaml`, every route `local`), as the tests start it. */
export const ROUTES_FILE = join(import.meta.dirname, '..', 'routes.yaml');
export const TABLE = parseTableText(readFileSync(ROUTES_FILE, 'utf8'), ROUTES_FILE, 'yaml') as RouteTable;

/** The route groups of the migration table: one per service. */
export const GROUP_ROUTES = ['articles', 'profiles'] as const;

export type LogLine = Record<string, unknown>;

export interface Showcase {
  db: Database;
  plain: Monolith;
  plainUrl: string;
  stack: Stack;
  logs: { monolith: LogLine[]; services: LogLine[] };
  /** The gateway's identity-signing key pair. */
  identity: { publicKey: KeyObject; privateKey: KeyObject };
  /** Faults reported by any side (500s, Gatehouse's own). */
  errors: unknown[];
  close(): Promise<void>;
}

const capture = (lines: LogLine[]) => ({
  logger: {
    info(line: object) {
      lines.push(line as LogLine);
    },
  },
});

export interface ShowcaseOptions {
  /** OpenAPI validation at the edge. Default true. */
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
  const logs = { monolith: [] as LogLine[], services: [] as LogLine[] };
  const identity = generateKeyPairSync('ed25519');
  const stack = await startStack({
    db,
    tokenSecret,
    config: { clientIp: { trustedProxies: ['loopback'] } },
    routes: { table: TABLE },
    adminKeyHash: hashApiKey(ADMIN_KEY),
    identity,
    accessLog: { monolith: capture(logs.monolith), services: capture(logs.services) },
    // Requests checked against the RealWorld OpenAPI document, responses reported, and the services'
    // answers checked as the contract guard (counted per route in /migration).
    ...(options.openapi === false
      ? {}
      : {
          openapi: {
            document: join(FIXTURES, 'openapi.yml'),
            basePath: '/api',
            responses: { mode: 'report' as const },
          },
        }),
    onError,
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

/** Puts every group of the migration table in one mode (a split at `weight` %). */
export function setGroupsMode(stack: Stack, mode: Mode, weight?: number): void {
  for (const name of GROUP_ROUTES) stack.monolith.routes!.setMode(name, mode, weight);
}
