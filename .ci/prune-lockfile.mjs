#!/usr/bin/env node
// The registry this project is built against serves each native tool's binary only for the platforms
// it mirrors (turbo and biome ship one optional package per OS/CPU), so npm cannot record the others
// in package-lock.json, and `npm ci` then refuses the lockfile as out of sync. This drops optional
// dependencies that the lockfile has no entry for. It runs after every `npm install` (postinstall).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
if (!existsSync(file)) process.exit(0);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages ?? {};
let pruned = 0;
for (const [path, entry] of Object.entries(packages)) {
  const optional = entry.optionalDependencies;
  if (!optional) continue;
  for (const name of Object.keys(optional)) {
    // npm resolves from the nearest node_modules up the tree; the root's hoisted copy is enough here.
    const nested = `${path ? `${path}/` : ''}node_modules/${name}`;
    if (packages[nested] || packages[`node_modules/${name}`]) continue;
    delete optional[name];
    pruned++;
  }
  if (Object.keys(optional).length === 0) delete entry.optionalDependencies;
}
if (pruned > 0) {
  writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
  console.error(`prune-lockfile: dropped ${pruned} optional dependencies this registry does not serve`);
}
