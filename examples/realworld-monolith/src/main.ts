// `npm start`: Conduit with Gatehouse and its two services on localhost. Data goes to DATABASE_URL
// (PostgreSQL) or, without it, to an embedded PostgreSQL (PGlite) in memory. `--plain` starts the
// monolith alone, without Gatehouse.
import { createPrivateKey, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashApiKey } from '@gatehousejs/auth';
import { loadConfigFile } from '@gatehousejs/core';
import { migrate, openDatabase } from '@gatehousejs/example-realworld-core';
import { ADMIN_PREFIX } from './gatehouse.js';
import { createMonolith } from './monolith.js';
import { startStack } from './stack.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The RealWorld fixtures (Postman collection, OpenAPI document) beside the repository. */
const fixtures = join(here, '..', '..', '..', '..', 'shared', 'fixtures', 'realworld');
const env = process.env;
const plain = process.argv.includes('--plain');

function tokenSecret(): Uint8Array {
  if (env.JWT_SECRET !== undefined && env.JWT_SECRET !== '') {
    const secret = new TextEncoder().encode(env.JWT_SECRET);
    if (secret.byteLength < 32) throw new Error('JWT_SECRET must be at least 32 bytes');
    return secret;
  }
  console.warn('JWT_SECRET is not set: a random one is used, so tokens end with this process.');
  return randomBytes(32);
}

const db = await openDatabase(env.DATABASE_URL ? { url: env.DATABASE_URL } : { dataDir: env.PGLITE_DIR });
await migrate(db);
const where =
  db.kind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : `PGlite (${env.PGLITE_DIR ?? 'in memory'})`;
const port = Number(env.PORT ?? 3100);

let stop: () => Promise<void>;
if (plain) {
  const monolith = createMonolith({ db, tokenSecret: tokenSecret() });
  const url = await monolith.listen(port);
  stop = () => monolith.close();
  console.log(`\nConduit (the plain Express 4 monolith, no Gatehouse) on ${url}/api — data in ${where}\n`);
  console.log(newman(url));
} else {
  const adminKey = env.ADMIN_API_KEY ?? `gh_admin_${randomBytes(12).toString('hex')}`;
  const config = await loadConfigFile(join(here, '..', 'gatehouse.yaml'));
  const routes = { file: join(here, '..', 'routes.yaml'), watch: { intervalMs: 500 } };
  // The RealWorld OpenAPI document: requests validated, responses and the services' answers checked.
  const openapiFile = env.OPENAPI_FILE ?? join(fixtures, 'openapi.yml');
  const openapi = existsSync(openapiFile)
    ? { document: openapiFile, basePath: '/api', responses: { mode: 'report' as const } }
    : undefined;
  if (openapi === undefined) console.warn(`No OpenAPI document at ${openapiFile}: validation is off.`);
  let urls: { monolith: string; articles: string; profiles: string };
  if (env.IDENTITY_PRIVATE_KEY_FILE) {
    // The services run elsewhere (their own `npm start`), at the addresses gatehouse.yaml names.
    const monolith = createMonolith({
      db,
      tokenSecret: tokenSecret(),
      gatehouse: {
        config,
        routes,
        identityKey: createPrivateKey(readFileSync(env.IDENTITY_PRIVATE_KEY_FILE)),
        adminKeyHash: hashApiKey(adminKey),
        ...(openapi ? { openapi } : {}),
      },
    });
    const service = (name: string) => {
      const entry = config.services[name];
      return entry && 'url' in entry ? `${entry.url}` : '(see gatehouse.yaml)';
    };
    urls = {
      monolith: await monolith.listen(port),
      articles: service('articles'),
      profiles: service('profiles'),
    };
    stop = () => monolith.close();
  } else {
    const stack = await startStack({
      db,
      tokenSecret: tokenSecret(),
      config,
      routes,
      adminKeyHash: hashApiKey(adminKey),
      ...(openapi ? { openapi } : {}),
      ports: { monolith: port, articles: port + 1, profiles: port + 2 },
    });
    urls = stack.urls;
    stop = () => stack.close();
  }
  const { monolith, articles, profiles } = urls;
  const admin = `${monolith}${ADMIN_PREFIX}`;
  console.log(`
Conduit on Express 4 with Gatehouse — data in ${where}

  API              ${monolith}/api        (RealWorld: Authorization: Token <jwt>)
  articles service ${articles}  (Koa: articles, feed, favorites, comments)
  profiles service ${profiles}  (Koa: profiles, follows, tags)
  admin            ${admin}/   (x-api-key: ${adminKey})

Try:
  curl -s ${monolith}/api/tags
  curl -s -X POST ${monolith}/api/users -H 'content-type: application/json' \\
    -d '{"user":{"username":"ann","email":"ann@example.test","password":"secret-pass"}}'
  curl -s -H 'x-api-key: ${adminKey}' ${admin}/routes       # the migration table
  curl -s -H 'x-api-key: ${adminKey}' ${admin}/migration    # traffic per side, diff rates
  curl -s -H 'x-api-key: ${adminKey}' ${admin}/metrics      # Prometheus
  # move a group: edit examples/realworld-monolith/routes.yaml (mode: remote) and save
${newman(monolith)}
Ctrl-C drains in-flight requests and stops.
`);
}

function newman(url: string): string {
  return `  npx newman run ${fixtures}/Conduit.postman_collection.json \\
    --global-var APIURL=${url}/api --global-var USERNAME=u$(date +%s) \\
    --global-var EMAIL=u$(date +%s)@example.test --global-var PASSWORD=password
`;
}

const shutdown = async () => {
  console.log('\ndraining…');
  await stop();
  await db.close();
  process.exit(0);
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
