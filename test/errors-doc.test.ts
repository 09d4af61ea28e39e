// docs/errors.md lists every error code defined by every package, with its status.
import { readFileSync } from 'node:fs';
import { errorCodes } from '@gatehouse/core';
import '@gatehouse/express';
import '@gatehouse/koa';
import { expect, test } from 'vitest';

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

test('every defined error code is documented with its status', () => {
  expect(errorCodes().size).toBeGreaterThan(10);
  for (const [code, spec] of errorCodes()) {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
    expect(row, `${code} is missing from docs/errors.md`).toBeDefined();
    if (spec.status > 0 && code !== 'GH_APP_ERROR') expect(row).toContain(`| ${spec.status} |`);
  }
});

test('the document lists no code that does not exist', () => {
  const listed = [...doc.matchAll(/^\| `(GH_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
  for (const code of listed)
    expect(errorCodes().has(code!), `${code} is documented but not defined`).toBe(true);
});
