// Events through diagnostics_channel on both frameworks: lifecycle states in order, one start and one
// finish per request, and faults reported with their phase.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Exchange, GatewayState } from '@gatehousejs/core';
import { afterEach, describe, expect, test } from 'vitest';
import { FRAMEWORKS, startApp } from '../support/apps.js';
import { request } from '../support/raw-http.js';

const subscriptions: Array<[string, (message: unknown) => void]> = [];
function listen(name: string, fn: (message: unknown) => void) {
  subscribe(name, fn);
  subscriptions.push([name, fn]);
}
afterEach(() => {
  for (const [name, fn] of subscriptions.splice(0)) unsubscribe(name, fn);
});

describe.each(FRAMEWORKS)('%s events', (framework) => {
  test('lifecycle states, request start/finish and error reports are published', async () => {
    const states: GatewayState[] = [];
    const started: string[] = [];
    const finished: string[] = [];
    const errors: Array<{ phase: string; message: string }> = [];
    listen('gatehouse:lifecycle', (m) => states.push((m as { state: GatewayState }).state));
    listen('gatehouse:request:start', (m) => started.push((m as { exchange: Exchange }).exchange.rawPath));
    listen('gatehouse:request:finish', (m) => finished.push((m as { exchange: Exchange }).exchange.rawPath));
    listen('gatehouse:error', (m) => {
      const { phase, error } = m as { phase: string; error: Error };
      errors.push({ phase, message: error.message });
    });

    const app = await startApp(framework, { chain: (gw) => [gw.requestId()] });
    expect((await request(app.port, { path: '/hello' })).status).toBe(200);
    expect((await request(app.port, { path: '/throw/plain' })).status).toBe(500);
    await app.close();

    expect(states).toEqual(['starting', 'ready', 'draining', 'closed']);
    expect(started).toEqual(['/hello', '/throw/plain']);
    expect(finished).toEqual(['/hello', '/throw/plain']);
    expect(errors).toEqual([{ phase: 'handler', message: 'secret internals at /srv/app.js:42' }]);
    // With a subscriber on gatehouse:error the gateway's own onError still runs.
    expect(app.reported).toHaveLength(1);
  });
});
