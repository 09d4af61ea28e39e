import { describe, expect, test } from 'vitest';
import { createClient } from './client.js';

/** The problems a ConfigError lists, as `path: message` lines. */
function problems(make: () => unknown): string[] {
  try {
    make();
  } catch (error) {
    expect(error).toMatchObject({ code: 'GH_CONFIG_INVALID' });
    return (error as { problems: { path: string; message: string }[] }).problems.map(
      (p) => `${p.path}: ${p.message}`,
    );
  }
  throw new Error('expected a ConfigError');
}

describe('createClient options', () => {
  test('every problem is listed at once, each with its path', () => {
    const listed = problems(() =>
      createClient({
        name: 'orders',
        endpoints: ['http://127.0.0.1:1'],
        timeout: { totalMs: 5 },
        timeouts: { perTryMs: 0, totalMs: -1 },
        retry: { maxAttempts: 1.5, statuses: [200], budget: { ratio: -1 } },
        balancer: 'random',
        connections: 0,
        outlier: { maxEjectionPercent: 150 },
        hedge: { delayMs: 0, maxPercent: 0 },
        bulkhead: { maxConcurrent: 0, maxPending: -1 },
      } as never),
    );
    expect(listed).toEqual(
      expect.arrayContaining([
        "client(orders).timeout: unknown option; did you mean 'timeouts'?",
        expect.stringMatching(/^client\(orders\)\.timeouts\.perTryMs: must be a positive integer/),
        expect.stringMatching(/^client\(orders\)\.timeouts\.totalMs: must be a positive integer/),
        expect.stringMatching(/^client\(orders\)\.retry\.maxAttempts: must be a positive integer/),
        expect.stringMatching(/^client\(orders\)\.retry\.statuses\[0\]: must be a 4xx or 5xx status/),
        expect.stringMatching(/^client\(orders\)\.retry\.budget\.ratio:/),
        expect.stringMatching(/^client\(orders\)\.balancer: must be 'p2c'/),
        expect.stringMatching(/^client\(orders\)\.connections: must be a positive integer/),
        expect.stringMatching(/^client\(orders\)\.outlier\.maxEjectionPercent:/),
        expect.stringMatching(/^client\(orders\)\.hedge\.delayMs:/),
        expect.stringMatching(/^client\(orders\)\.hedge\.maxPercent:/),
        expect.stringMatching(/^client\(orders\)\.bulkhead\.maxConcurrent:/),
        expect.stringMatching(/^client\(orders\)\.bulkhead\.maxPending:/),
      ]),
    );
  });

  test('a name and exactly one source of endpoints are required', () => {
    expect(problems(() => createClient({} as never))).toEqual(
      expect.arrayContaining([
        'client(?).name: is required',
        "client(?): give exactly one of 'resolver' or 'endpoints'",
      ]),
    );
  });
});
