import { afterEach, describe, expect, test } from 'vitest';
import { rateLimit } from './rate-limit.js';
import { startTestServer, type TestServer } from './test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('windows', () => {
  test('admits the points of a window, then 429 with Retry-After and IETF headers', async () => {
    server = await startTestServer(rateLimit({ limits: [{ name: 'burst', points: 3, duration: 10 }] }));
    const statuses: number[] = [];
    const remaining: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await server.get('/');
      statuses.push(res.status);
      remaining.push(String(res.headers.ratelimit));
      expect(res.headers['ratelimit-policy']).toBe('"burst";q=3;w=10');
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(remaining.slice(0, 3)).toEqual(['"burst";r=2;t=10', '"burst";r=1;t=10', '"burst";r=0;t=10']);
    const refused = await server.get('/');
    expect(refused.headers['content-type']).toBe('application/problem+json');
    expect(refused.json).toMatchObject({ code: 'GH_RATE_LIMITED', status: 429, policy: 'burst' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(9);
    expect(refused.headers.ratelimit).toMatch(/^"burst";r=0;t=(9|10)$/);
  });
});
