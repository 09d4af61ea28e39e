import { expect, test } from 'vitest';
import { BoundedMap } from './bounded-map.js';

test('keeps at most max entries, dropping the oldest inserted', () => {
  const map = new BoundedMap<string, number>(2);
  map.set('a', 1);
  map.set('b', 2);
  map.set('a', 10); // an update does not evict
  expect(map.size).toBe(2);
  map.set('c', 3);
  expect(map.get('a')).toBeUndefined();
  expect(map.get('b')).toBe(2);
  expect(map.get('c')).toBe(3);
  expect(map.delete('b')).toBe(true);
  map.clear();
  expect(map.size).toBe(0);
});
