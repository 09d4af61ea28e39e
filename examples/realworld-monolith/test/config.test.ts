// gatehouse.yaml, as committed: it builds a gateway (every section checked by the same schemas as the
// code API, the OpenAPI document compiled), and what it says about Conduit agrees with Conduit's own
// operation table — the operations that need a user are exactly those its auth rules protect, and
// every operation of a service's group is under that group's route. No database needed.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashApiKey } from '@gatehousejs/auth';
import { OPERATIONS } from '@gatehousejs/example-realworld-core';
import { SERVICE_GROUPS } from '@gatehousejs/example-realworld-services';
import { describe, expect, test } from 'vitest';
import { CONFIG_FILE, type GatehouseEnv, gatehouseFromFile } from '../src/index.js';
import { CONFIG, FIXTURES, TABLE } from './support.js';

type Rule = { path: string; httpMethods?: string[]; methods?: string[]; anonymous?: boolean };

/** This run's secrets, as the demo makes them. */
const env = (): GatehouseEnv => ({
  JWT_SECRET: randomBytes(32).toString('base64url'),
  ADMIN_API_KEY_HASH: hashApiKey('k'),
  IDENTITY_PRIVATE_KEY: generateKeyPairSync('ed25519').privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string,
  OPENAPI_FILE: join(FIXTURES, 'openapi.yml'),
  ACCESS_LOG: '/dev/null',
});

describe('gatehouse.yaml', () => {
  test('builds the whole gateway from the file (followed for changes), with this run’s secrets', async () => {
    const gw = await gatehouseFromFile({ env: env() });
    try {
      const status = gw.configuration!.status();
      expect([status.origin, status.revision, status.restartRequired]).toEqual([
        expect.stringMatching(/gatehouse\.yaml$/),
        1,
        [],
      ]);
      // Nothing in it warrants a warning (no old route format, nothing ignored).
      expect(status.warnings).toEqual([]);
    } finally {
      await gw.close();
    }
  });

  test('a saved change applies while it runs: a group moved to shadow in a copy of the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-showcase-'));
    const file = join(dir, 'gatehouse.yaml');
    const text = readFileSync(CONFIG_FILE, 'utf8');
    writeFileSync(file, text);
    const gw = await gatehouseFromFile({ env: env(), file });
    try {
      expect(gw.configuration!.revision).toBe(1);
      const reloaded = new Promise((resolve) => gw.configuration!.on('reload', resolve));
      // The articles group's first `mode: local` (the file lists articles first).
      writeFileSync(file, text.replace('    mode: local\n', '    mode: shadow\n'));
      expect(await reloaded).toMatchObject({ outcome: 'applied', changed: ['routes'] });
      expect(gw.configuration!.revision).toBe(2);
    } finally {
      await gw.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the operations that need a user are exactly the ones its auth rules protect with a token', () => {
    const rules = (CONFIG.auth as { rules: Rule[] }).rules;
    const protectedOps = rules
      .filter((r) => r.anonymous !== true)
      .flatMap((r) => (r.httpMethods ?? []).map((m) => `${m} ${r.path}`))
      .sort();
    const required = OPERATIONS.filter((o) => o.access === 'required')
      .map((o) => `${o.method} ${o.path}`)
      .sort();
    expect(protectedOps).toEqual(required);
    expect(rules.filter((r) => r.anonymous !== true).every((r) => r.methods?.join() === 'jwt')).toBe(true);
  });

  test("every operation of a service's groups is under that service's route group", () => {
    const under = (path: string, pattern: string) =>
      pattern.endsWith('/*')
        ? path === pattern.slice(0, -2) || path.startsWith(pattern.slice(0, -1))
        : path === pattern;
    for (const [service, groups] of Object.entries(SERVICE_GROUPS)) {
      const route = TABLE.routes.find((r) => r.service === service)!;
      const patterns = Array.isArray(route.path) ? route.path : [route.path];
      for (const op of OPERATIONS.filter((o) => (groups as readonly string[]).includes(o.group)))
        expect(
          patterns.some((p) => under(op.path, p as string)),
          `${op.method} ${op.path}`,
        ).toBe(true);
    }
    // The users group (it issues the tokens) is under no route: it stays in the monolith.
    for (const op of OPERATIONS.filter((o) => o.group === 'users'))
      expect(TABLE.routes.some((r) => [r.path].flat().some((p) => under(op.path, p as string)))).toBe(false);
  });
});
