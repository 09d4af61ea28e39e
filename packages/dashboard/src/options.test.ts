// addDashboard() checks its options when it runs: every problem in one ConfigError, with its path.
import { ConfigError, Gateway } from '@gatehousejs/core';
import { expect, it } from 'vitest';
import { addDashboard } from './dashboard.js';

it('refuses unknown keys, bad paths and out-of-range numbers, all in one ConfigError', () => {
  const core = new Gateway();
  let error: unknown;
  try {
    addDashboard(core, { path: 'dashboard/', refreshMs: 5, maxClient: 3 } as never);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const problems = (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  expect(problems).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^dashboard\.path: must be a path below the admin prefix/),
      expect.stringMatching(/^dashboard\.refreshMs: /),
      expect.stringMatching(/maxClient.*did you mean 'maxClients'/),
    ]),
  );
  expect(core.adminEndpoints.size).toBe(0);
});

it('registers the page, its assets, the state and the event stream below its path', async () => {
  const core = new Gateway();
  addDashboard(core, { path: '/ops/migration' });
  expect([...core.adminEndpoints.keys()].sort()).toEqual([
    '/ops/migration',
    '/ops/migration/app-css',
    '/ops/migration/app-js',
    '/ops/migration/chart-css',
    '/ops/migration/chart-js',
    '/ops/migration/events',
    '/ops/migration/state',
  ]);
  await core.close({ deadlineMs: 10 });
});
