import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from './config/validate.js';
import { loadPeer, missingPackageOf, peerInstalled, providePeer } from './optional-peer.js';

// A directory with its own node_modules: `present` loads, `broken` requires a package that is not
// there, `esm` is an ES module (loaded by require() without top-level await).
const root = mkdtempSync(join(tmpdir(), 'gh-peer-'));
const from = pathToFileURL(join(root, 'app.mjs')).href;
const write = (path: string, text: string) => {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
};
write('node_modules/present/package.json', '{"name":"present","version":"1.0.0","main":"index.js"}');
write('node_modules/present/index.js', 'module.exports = { answer: 42 };');
write('node_modules/broken/package.json', '{"name":"broken","version":"1.0.0","main":"index.js"}');
write('node_modules/broken/index.js', "require('gatehouse-missing-inner');");
write(
  'node_modules/esm/package.json',
  '{"name":"esm","version":"1.0.0","type":"module","exports":"./index.js"}',
);
write('node_modules/esm/index.js', 'export const kind = "esm";');
// Gatehouse packages that need another one, which is not installed (ES module and CommonJS).
write(
  'node_modules/needs-esm/package.json',
  '{"name":"needs-esm","version":"1.0.0","type":"module","exports":"./index.js"}',
);
write('node_modules/needs-esm/index.js', "import '@gatehousejs/not-installed'; export const x = 1;");
write('node_modules/needs-cjs/package.json', '{"name":"needs-cjs","version":"1.0.0","main":"index.js"}');
write('node_modules/needs-cjs/index.js', "require('@gatehousejs/also-missing/sub');");
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('loadPeer', () => {
  it('loads an installed package from the asking module', () => {
    expect(loadPeer<{ answer: number }>('present', { from, path: 'x' }).answer).toBe(42);
    expect(loadPeer<{ kind: string }>('esm', { from, path: 'x' }).kind).toBe('esm');
  });

  it('throws one ConfigError naming the package to install when it is not installed', () => {
    let thrown: unknown;
    try {
      loadPeer('ioredis', { from, path: 'redisStore.url', feature: 'a Redis store' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const error = thrown as ConfigError;
    expect(error.code).toBe('GH_CONFIG_INVALID');
    expect(error.problems).toEqual([
      {
        path: 'redisStore.url',
        message:
          "needs the package 'ioredis' for a Redis store, an optional peer dependency that is not installed: npm install ioredis",
      },
    ]);
    expect(error.message).toContain('redisStore.url: needs the package');
    expect((error.cause as { code?: string }).code).toBe('MODULE_NOT_FOUND');
  });

  it('says what to install when that is more than the name', () => {
    expect(() =>
      loadPeer('@opentelemetry/sdk-metrics', {
        from,
        path: 'tracing.metrics.prometheus',
        install: '@opentelemetry/sdk-metrics @opentelemetry/exporter-prometheus',
      }),
    ).toThrow(/npm install @opentelemetry\/sdk-metrics @opentelemetry\/exporter-prometheus$/);
  });

  it('throws the original error of a package that is installed but broken', () => {
    expect(() => loadPeer('broken', { from, path: 'x' })).toThrow(
      expect.objectContaining({ code: 'MODULE_NOT_FOUND', message: expect.stringContaining('inner') }),
    );
    expect(() => loadPeer('broken', { from, path: 'x' })).not.toThrow(ConfigError);
  });

  it('names a Gatehouse package that the requested one needs when that one is missing', () => {
    for (const [name, missing] of [
      ['needs-esm', '@gatehousejs/not-installed'],
      ['needs-cjs', '@gatehousejs/also-missing'],
    ] as const) {
      let thrown: unknown;
      try {
        loadPeer(name, { from, path: 'gatewayFromFile()', feature: 'the configuration' });
      } catch (error) {
        thrown = error;
      }
      expect(thrown, name).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).problems, name).toEqual([
        {
          path: 'gatewayFromFile()',
          message: `needs the package '${missing}', an optional peer dependency that is not installed: npm install ${missing}`,
        },
      ]);
    }
  });

  it('uses a provided module instead of requiring one', () => {
    const module = { provided: true };
    providePeer('gatehouse-provided-only', module);
    expect(loadPeer('gatehouse-provided-only', { from, path: 'x' })).toBe(module);
    expect(peerInstalled('gatehouse-provided-only', from)).toBe(true);
  });
});

describe('missingPackageOf', () => {
  it('reads the package require() and import() could not find, and nothing else', async () => {
    const imported = await import(pathToFileURL(join(root, 'node_modules/needs-esm/index.js')).href).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(missingPackageOf(imported)).toBe('@gatehousejs/not-installed');
    let required: unknown;
    try {
      loadPeer('broken', { from, path: 'x' });
    } catch (error) {
      required = error;
    }
    expect(missingPackageOf(required)).toBe('gatehouse-missing-inner');
    expect(missingPackageOf(new Error("Cannot find module 'x'"))).toBeUndefined();
    expect(missingPackageOf(undefined)).toBeUndefined();
  });
});

describe('peerInstalled', () => {
  it('resolves without loading', () => {
    expect(peerInstalled('present', from)).toBe(true);
    expect(peerInstalled('broken', from)).toBe(true);
    expect(peerInstalled('gatehouse-not-installed', from)).toBe(false);
  });
});
