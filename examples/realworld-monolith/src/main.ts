// `npm start` (and the repository's `npm run demo`): Conduit with Gatehouse (gatehouse.yaml) and its two
// services on localhost, seeded, printing what to try. Data goes to DATABASE_URL (PostgreSQL) or,
// without it, to an embedded PostgreSQL (PGlite) in memory. `--plain` starts the monolith alone,
// without Gatehouse; IDENTITY_PRIVATE_KEY_FILE runs the gateway against services started elsewhere
// (ARTICLES_URL, PROFILES_URL).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hashApiKey } from '@gatehousejs/auth';
import { migrate, openDatabase } from '@gatehousejs/example-realworld-core';
import { instructions, startDemo } from './demo.js';
import { ADMIN_PREFIX, type GatehouseEnv, gatehouseFromFile } from './gatehouse.js';
import { createMonolith } from './monolith.js';

const env = process.env;
const port = Number(env.PORT ?? 3100);

/** JWT_SECRET is base64url (as gatehouse.yaml reads it): the bytes Conduit signs its tokens with. */
function givenSecret(): Uint8Array | undefined {
  if (env.JWT_SECRET === undefined || env.JWT_SECRET === '') return undefined;
  const secret = Buffer.from(env.JWT_SECRET, 'base64url');
  if (secret.byteLength < 32) throw new Error('JWT_SECRET must be the base64url of at least 32 bytes');
  return new Uint8Array(secret);
}

let stop: () => Promise<void>;
if (process.argv.includes('--plain') || env.IDENTITY_PRIVATE_KEY_FILE) {
  const db = await openDatabase(env.DATABASE_URL ? { url: env.DATABASE_URL } : { dataDir: env.PGLITE_DIR });
  await migrate(db);
  const secret = givenSecret() ?? new Uint8Array(randomBytes(32));
  if (process.argv.includes('--plain')) {
    const monolith = createMonolith({ db, tokenSecret: secret });
    const url = await monolith.listen(port);
    stop = async () => {
      await monolith.close();
      await db.close();
    };
    console.log(`\nConduit (the plain Express 4 monolith, no Gatehouse) on ${url}/api\n`);
  } else {
    // The services run elsewhere (their own `npm start`), at ARTICLES_URL and PROFILES_URL.
    const adminKey = env.ADMIN_API_KEY ?? `gh_admin_${randomBytes(12).toString('hex')}`;
    const gw = await gatehouseFromFile({
      env: {
        ...(env as Partial<GatehouseEnv>),
        JWT_SECRET: Buffer.from(secret).toString('base64url'),
        ADMIN_API_KEY_HASH: hashApiKey(adminKey),
        IDENTITY_PRIVATE_KEY: readFileSync(env.IDENTITY_PRIVATE_KEY_FILE!, 'utf8'),
      },
    });
    const monolith = createMonolith({ db, tokenSecret: secret, gw });
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
  const secret = givenSecret();
  const demo = await startDemo({
    port,
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    ...(env.PGLITE_DIR ? { pgliteDir: env.PGLITE_DIR } : {}),
    ...(env.OPENAPI_FILE ? { openapiFile: env.OPENAPI_FILE } : {}),
    ...(env.ADMIN_API_KEY ? { adminKey: env.ADMIN_API_KEY } : {}),
    ...(secret === undefined ? {} : { tokenSecret: secret }),
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
