import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { removePathSegment, versionSegment } from './path-segment.js';

const SEED = Number(process.env.FC_SEED ?? 20261204);

describe('versionSegment', () => {
  test.each([
    ['/v2/orders', 0, 'v', '2'],
    ['/V2/orders', 0, 'v', '2'],
    ['/v2', 0, 'v', '2'],
    ['/v1.5/x', 0, 'v', '1.5'],
    ['/v2x/orders', 0, 'v', '2x'],
    ['/vendors/1', 0, 'v', undefined],
    ['/v/orders', 0, 'v', undefined],
    ['/', 0, 'v', undefined],
    ['/api/VER3/orders', 1, 'ver', '3'],
    ['/api', 1, 'v', undefined],
    ['/2/orders', 0, '', '2'],
    ['/orders/2', 0, '', undefined],
    ['/api_v2/x', 0, 'api_v', '2'],
  ])('%s at %d with prefix %j → %j', (path, index, prefix, want) => {
    expect(versionSegment(path, index, prefix)).toBe(want);
  });
});

describe('removePathSegment', () => {
  test.each([
    ['/v2/orders', 0, '/orders'],
    ['/v2', 0, '/'],
    ['/api/v2/orders', 1, '/api/orders'],
    ['/api/v2', 1, '/api'],
    ['/orders', 3, '/orders'],
  ])('%s without segment %d → %s', (path, index, want) => {
    expect(removePathSegment(path, index)).toBe(want);
  });

  test('removes exactly one segment, keeping the others in order', () => {
    const segment = fc.stringMatching(/^[a-z0-9.-]{1,6}$/);
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), fc.nat(7), (segments, index) => {
        const path = `/${segments.join('/')}`;
        const kept = segments.filter((_, i) => i !== index);
        expect(removePathSegment(path, index)).toBe(index >= segments.length ? path : `/${kept.join('/')}`);
      }),
      { seed: SEED, numRuns: 2_000 },
    );
  });
});
