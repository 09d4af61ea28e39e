// docs/errors.md lists every error code defined by every package, with its status.
import { readFileSync } from 'node:fs';
import { errorCodes } from '@gatehousejs/core';
import '@gatehousejs/express';
import '@gatehousejs/koa';
import '@gatehousejs/auth';
import '@gatehousejs/rate-limit';
import '@gatehousejs/client';
import '@gatehousejs/routes';
import '@gatehousejs/dashboard';
import '@gatehousejs/openapi';
import { expect, test } from 'vitest';

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

/** Table rows as trimmed cells, keyed by the code in the first cell. */
const rows = new Map(
  doc
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    )
    .filter((cells) => /^`GH_[A-Z0-9_]+`$/.test(cells[0] ?? ''))
    .map((cells) => [cells[0]!.slice(1, -1), cells] as const),
);

test('every defined error code is documented with its status', () => {
  expect(errorCodes().size).toBeGreaterThan(10);
  for (const [code, spec] of errorCodes()) {
    const cells = rows.get(code);
    expect(cells, `${code} is missing from docs/errors.md`).toBeDefined();
    if (spec.status > 0 && code !== 'GH_APP_ERROR')
      expect(cells?.[1], `${code} status`).toBe(String(spec.status));
  }
});

test('the document lists no code that does not exist', () => {
  expect(rows.size).toBeGreaterThan(10);
  for (const code of rows.keys())
    expect(errorCodes().has(code), `${code} is documented but not defined`).toBe(true);
});
