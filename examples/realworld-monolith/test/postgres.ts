// A fresh PostgreSQL database per test file on the machine's server (127.0.0.1:5432, trust auth),
// dropped afterwards. Without a reachable server the tests are skipped loudly, and fail on CI.
import { randomBytes } from 'node:crypto';
import { type Database, openDatabase } from '@gatehousejs/example-realworld-core';
import { test } from 'vitest';

const HOST = process.env.PGHOST_TEST ?? '127.0.0.1:5432';

export interface TestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

async function tryAdmin(user: string): Promise<Database | undefined> {
  const admin = await openDatabase({ url: `postgres://${user}@${HOST}/postgres`, poolSize: 1 });
  try {
    await admin.query('SELECT 1');
    return admin;
  } catch {
    await admin.close().catch(() => {});
    return undefined;
  }
}

/** Creates an empty database; a string says why it could not. */
export async function freshDatabase(label: string): Promise<TestDatabase | string> {
  for (const user of ['postgres', 'root']) {
    const admin = await tryAdmin(user);
    if (admin === undefined) continue;
    const name = `conduit_${label}_${process.pid}_${randomBytes(4).toString('hex')}`;
    await admin.query(`CREATE DATABASE ${name}`);
    return {
      url: `postgres://${user}@${HOST}/${name}`,
      async drop() {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.close();
      },
    };
  }
  return `no PostgreSQL server accepted user postgres or root at ${HOST}`;
}

/** Says loudly that the file's tests cannot run; on CI registers a failing test instead. */
export function postgresMissing(file: string, reason: string): void {
  if (process.env.CI === 'true') {
    test(`PostgreSQL is available for ${file}`, () => {
      throw new Error(`PostgreSQL is required on CI: ${reason}`);
    });
    return;
  }
  console.warn(`\n*** ${file}: tests SKIPPED — ${reason} ***\n`);
}
