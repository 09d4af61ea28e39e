import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { decodeSample } from './capture.js';
import { createDiffer, type ResponseSample } from './diff.js';

const json = JSON.stringify({ id: '1', name: 'item 1', tags: ['a', 'b'] });
const sample = (body: Buffer, encoding?: string): ResponseSample => ({
  status: 200,
  headers: {
    'content-type': 'application/json',
    ...(encoding === undefined ? {} : { 'content-encoding': encoding }),
  },
  body,
});

describe('decodeSample', () => {
  test.each([
    ['gzip', gzipSync],
    ['x-gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
    [' GZIP ', gzipSync],
  ] as const)('decodes %s; headers stay as they were', (coding, encode) => {
    const decoded = decodeSample(sample(encode(Buffer.from(json)), coding), 1 << 20);
    expect(decoded.body?.toString()).toBe(json);
    expect(decoded.headers['content-encoding']).toBe(coding);
    expect(decoded.truncated).toBeUndefined();
  });

  test('a compressed local answer and a plain remote one with the same content compare equal', () => {
    const differ = createDiffer();
    const local = decodeSample(sample(gzipSync(Buffer.from(json)), 'gzip'), 1 << 20);
    const remote = decodeSample(sample(Buffer.from(json)), 1 << 20);
    expect(differ.compare(local, remote, { method: 'GET', path: '/items/1' }).equal).toBe(true);
    const other = decodeSample(
      sample(brotliCompressSync(Buffer.from(json.replace('item 1', 'item 2'))), 'br'),
      1 << 20,
    );
    const result = differ.compare(local, other, { method: 'GET', path: '/items/1' });
    expect(result.equal).toBe(false);
    expect(result.differences).toEqual([
      expect.objectContaining({ path: '/name', local: 'item 1', remote: 'item 2' }),
    ]);
  });

  test('a body that decodes past the cap is truncated (not compared): a small bomb stays small', () => {
    const bomb = gzipSync(Buffer.alloc(50 << 20));
    expect(bomb.length).toBeLessThan(100_000);
    const decoded = decodeSample(sample(bomb, 'gzip'), 1 << 20);
    expect(decoded).toMatchObject({ body: undefined, truncated: true });
  });

  test('a body that is not what its header says, another coding, or no body: unchanged', () => {
    const broken = sample(Buffer.from('not gzip at all'), 'gzip');
    expect(decodeSample(broken, 1 << 20)).toBe(broken);
    const zstd = sample(Buffer.from('whatever'), 'zstd');
    expect(decodeSample(zstd, 1 << 20)).toBe(zstd);
    const plain = sample(Buffer.from(json));
    expect(decodeSample(plain, 1 << 20)).toBe(plain);
    const empty = sample(Buffer.alloc(0), 'gzip');
    expect(decodeSample(empty, 1 << 20)).toBe(empty);
  });
});
