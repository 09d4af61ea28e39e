// Writes packages/core/gatehouse.schema.json (the JSON Schema editors use for Gatehouse
// configuration files) from the built valibot schema. `--check` only compares, and exits 1 on a difference.
//
//   npm run build -w @gatehousejs/core && node packages/core/scripts/generate-schema.mjs [--check]
//
// Without a build, the same file is written by the test that guards it:
//   GATEHOUSE_WRITE_SCHEMA=1 npx vitest run --project core packages/core/src/config/schema.test.ts

import { readFile, writeFile } from 'node:fs/promises';

const built = new URL('../dist/config/index.js', import.meta.url);
const target = new URL('../gatehouse.schema.json', import.meta.url);

let configJsonSchema;
try {
  ({ configJsonSchema } = await import(built.href));
} catch (error) {
  console.error(`Cannot load ${built.pathname}; build first: npm run build -w @gatehousejs/core\n${error}`);
  process.exit(2);
}

// Must stay byte-for-byte the rendering in src/config/schema.test.ts.
const generated = `${JSON.stringify(configJsonSchema, null, 2)}\n`;

if (process.argv.includes('--check')) {
  const committed = await readFile(target, 'utf8').catch(() => '');
  if (committed !== generated) {
    console.error(`${target.pathname} is out of date; run: node packages/core/scripts/generate-schema.mjs`);
    process.exit(1);
  }
  console.log(`${target.pathname} is up to date`);
} else {
  await writeFile(target, generated);
  console.log(`wrote ${target.pathname}`);
}
