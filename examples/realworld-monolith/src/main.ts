// `npm start` (and the repository's `npm run demo`): Conduit with Gatehouse and its two services on
// localhost, seeded, printing what to try. Data goes to DATABASE_URL (PostgreSQL) or, without it, to
// an embedded PostgreSQL (PGlite) in memory. `--plain` starts the monolith alone, without Gatehouse;
// IDENTITY_PRIVATE_KEY_FILE runs the gateway against services started elsewhere.
import { createPrivateKey, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashApiKey } from '@gatehousejs/auth';
import { loadConfigFile } from '@gatehousejs/core';
import { migrate, openDatabase } from '@gatehousejs/example-realworld-core';
import { FIXTURES, instructions, startDemo, WORKSPACE } from './demo.js';
import { ADMIN_PREFIX } from './gatehouse.js';
import { createMonolith } from './monolith.js';

const env = process.env;
const port = Number(env.PORT ?? 3100);

function tokenSecret(): Uint8Array {
  return givenSecret() ?? randomBytes(32);
}

function givenSecret(): Uint8Array | undefined {
  if (env.JWT_SECRET === undefined || env.JWT_SECRET === '') return undefined;
  const secret = new TextEncoder().encode(env.JWT_SECRET);
  if (secret.byteLength < 32) throw new Error('JWT_SECRET must be at least 32 bytes');
  return secret;
}

let stop: () => Promise<void>;
if (process.argv.includes('--plain') || env.IDENTITY_PRIVATE_KEY_FILE) {
  const db = await openDatabase(env.DATABASE_URL ? { url: env.DATABASE_URL } : { dataDir: env.PGLITE_DIR });
  await migrate(db);
  if (process.argv.includes('--plain')) {
    const monolith = createMonolith({ db, tokenSecret: tokenSecret() });
    const url = await monolith.listen(port);
    stop = async () => {
      await monolith.close();
      await db.close();
    };
    console.log(`\nConduit (the plain Express 4 monolith, no Gatehouse) on ${url}/api\n`);
  } else {
    // The services run elsewhere (their own `npm start`), at the addresses gatehouse.yaml names.
    const adminKey = env.ADMIN_API_KEY ?? `gh_admin_${randomBytes(12).toString('hex')}`;
    const openapiFile = env.OPENAPI_FILE ?? join(FIXTURES, 'openapi.yml');
    const monolith = createMonolith({
      db,
      tokenSecret: tokenSecret(),
      gatehouse: {
        config: await loadConfigFile(join(WORKSPACE, 'gatehouse.yaml')),
        routes: { file: join(WORKSPACE, 'routes.yaml'), watch: { intervalMs: 500 } },
        identityKey: createPrivateKey(readFileSync(env.IDENTITY_PRIVATE_KEY_FILE!)),
        adminKeyHash: hashApiKey(adminKey),
        ...(existsSync(openapiFile)
          ? { openapi: { document: openapiFile, basePath: '/api', responses: { mode: 'report' as const } } }
          : {}),
      },
    });
    const url = await monolith.listen(port);
    stop = async () => {
      await monolith.close();
      await db.close();
    };
    console.log(
      `\nConduit with Gatehouse on ${url}/api, admin ${url}${ADMIN_PREFIX} (x-api-key: ${adminKey})\n`,
    );
  }
} else {
  const demo = await startDemo({
    port,
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    ...(env.PGLITE_DIR ? { pgliteDir: env.PGLITE_DIR } : {}),
    ...(env.OPENAPI_FILE ? { openapiFile: env.OPENAPI_FILE } : {}),
    ...(env.ADMIN_API_KEY ? { adminKey: env.ADMIN_API_KEY } : {}),
    ...(givenSecret() === undefined ? {} : { tokenSecret: givenSecret()! }),
  });
  stop = () => demo.close();
  console.log(instructions(demo));
}

const shutdown = async () => {
  console.log('\ndraining…');
  await stop();
  process.exit(0);
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
