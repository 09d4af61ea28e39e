// `npm start`: the two Conduit services on their own, for when the monolith's gateway runs in another
// process. They share the monolith's database, so a PostgreSQL DATABASE_URL is required (an embedded
// PGlite lives inside one process: the monolith's own `npm start` runs the services in-process), and
// they verify the identity the gateway signs, so they need its public key (IDENTITY_PUBLIC_KEY_FILE,
// an Ed25519 SPKI PEM).
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { migrate, openDatabase } from '@gatehousejs/example-realworld-core';
import { createService, SERVICE_GROUPS } from './service.js';

const { DATABASE_URL, IDENTITY_PUBLIC_KEY_FILE } = process.env;
if (!DATABASE_URL || !IDENTITY_PUBLIC_KEY_FILE) {
  console.error(
    "Set DATABASE_URL (the monolith's PostgreSQL) and IDENTITY_PUBLIC_KEY_FILE (the gateway's Ed25519 public key, PEM).\n" +
      'Without a PostgreSQL server, run `npm start -w @gatehousejs/example-realworld-monolith`: it starts these services in-process.',
  );
  process.exit(1);
}

const db = await openDatabase({ url: DATABASE_URL });
await migrate(db);
const identityKey = createPublicKey(readFileSync(IDENTITY_PUBLIC_KEY_FILE));
const port = Number(process.env.PORT ?? 3101);
const services = [
  createService({ name: 'articles', groups: SERVICE_GROUPS.articles, db, identityKey }),
  createService({ name: 'profiles', groups: SERVICE_GROUPS.profiles, db, identityKey }),
];
const urls = [await services[0]!.listen(port), await services[1]!.listen(port + 1)];
console.log(`
Conduit services (Koa), data in PostgreSQL (DATABASE_URL)

  articles  ${urls[0]}/api/articles   (articles, feed, favorites, comments)
  profiles  ${urls[1]}/api/profiles   (profiles, follows) and ${urls[1]}/api/tags

They answer as the monolith does; a caller is who the gateway's signed x-gatehouse-identity says.
Ctrl-C stops them.
`);

const stop = async () => {
  await Promise.all(services.map((s) => s.close()));
  await db.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
