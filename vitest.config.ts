import { defineConfig } from 'vitest/config';

// Tests run against each package's TypeScript source: the `@gatehousejs/source` export condition
// points at src/, so no build is needed between an edit and a test run.
// Vitest also hands these to Node as --conditions, where they apply to require() in dependencies:
// list only our own condition ('import' there would give CommonJS code the ESM builds).
const conditions = ['@gatehousejs/source', 'node'];

const project = (name: string, include: string[], setupFiles: string[] = []) => ({
  extends: true as const,
  test: { name, include, setupFiles },
});

// The projects that use the gateway object: it loads capability packages on first use through
// require(), which cannot load TypeScript sources; the setup hands it vitest's modules instead.
const gatewayObject = ['test/support/provide-packages.ts'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    projects: [
      project('core', ['packages/core/src/**/*.test.ts']),
      project('express', ['packages/express/src/**/*.test.ts'], gatewayObject),
      project('koa', ['packages/koa/src/**/*.test.ts'], gatewayObject),
      project('tracing', ['packages/tracing/src/**/*.test.ts'], gatewayObject),
      project('auth', ['packages/auth/src/**/*.test.ts']),
      project('rate-limit', ['packages/rate-limit/src/**/*.test.ts']),
      project('discovery', ['packages/discovery/src/**/*.test.ts']),
      project('client', ['packages/client/src/**/*.test.ts']),
      project('routes', ['packages/routes/src/**/*.test.ts']),
      project('dashboard', ['packages/dashboard/src/**/*.test.ts']),
      project('versioning', ['packages/versioning/src/**/*.test.ts']),
      project('aggregate', ['packages/aggregate/src/**/*.test.ts']),
      project('openapi', ['packages/openapi/src/**/*.test.ts']),
      project('gateway', ['packages/gateway/src/**/*.test.ts'], gatewayObject),
      project('cli', ['packages/cli/src/**/*.test.ts'], gatewayObject),
      project('conformance', ['test/**/*.test.ts'], gatewayObject),
      project('examples', ['examples/*/test/**/*.test.ts'], gatewayObject),
    ],
  },
});
