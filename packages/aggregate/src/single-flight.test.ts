import { describe, expect, it } from 'vitest';
import type { StoredResponse } from './body.js';
import { isPublic, SingleFlight, shareable, varyNames } from './single-flight.js';

const answer = (headers: Record<string, string> = {}): StoredResponse => ({
  status: 200,
  headers,
  body: Buffer.from('{}'),
});

/** A send whose answer the test releases, counting the calls and whether they were aborted. */
function controllable() {
  const calls: Array<{ signal: AbortSignal; release: (r: StoredResponse) => void }> = [];
  const send = (signal: AbortSignal) =>
    new Promise<StoredResponse>((resolve, reject) => {
      calls.push({ signal, release: resolve });
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  return { calls, send };
}

describe('SingleFlight', () => {
  it('identical calls in flight share one; the later ones are marked collapsed', async () => {
    const flights = new SingleFlight();
    const { calls, send } = controllable();
    const caller = { scope: undefined, headers: {} };
    const all = Promise.all([1, 2, 3].map(() => flights.run('k', caller, send)));
    expect(calls).toHaveLength(1);
    calls[0]!.release(answer());
    const results = await all;
    expect(results.map((r) => r.collapsed)).toEqual([false, true, true]);
    expect(flights.stats).toEqual({ led: 1, joined: 2 });
    expect(flights.size).toBe(0);
  });

  it('the flight is cancelled only when every caller has left', async () => {
    const flights = new SingleFlight();
    const { calls, send } = controllable();
    const a = new AbortController();
    const b = new AbortController();
    const pa = flights.run('k', { scope: undefined, headers: {}, signal: a.signal }, send);
    const pb = flights.run('k', { scope: undefined, headers: {}, signal: b.signal }, send);
    a.abort(new Error('a left'));
    await expect(pa).rejects.toThrow('a left');
    expect(calls[0]!.signal.aborted).toBe(false);
    b.abort(new Error('b left'));
    await expect(pb).rejects.toThrow('b left');
    expect(calls[0]!.signal.aborted).toBe(true);
    expect(flights.size).toBe(0);
  });

  it("another principal gets its own call unless the answer is public; Vary'd headers must match", async () => {
    const flights = new SingleFlight();
    const { calls, send } = controllable();
    const alice = { scope: 'p:alice', headers: { 'accept-language': 'en' } };
    const bob = { scope: 'p:bob', headers: { 'accept-language': 'en' } };
    const pa = flights.run('k', alice, send);
    const pb = flights.run('k', bob, send);
    calls[0]!.release(answer({ 'cache-control': 'private' }));
    await pa;
    // Bob's own call went out once Alice's private answer was seen.
    await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(2);
    calls[1]!.release(answer());
    expect((await pb).collapsed).toBe(false);

    const pc = flights.run('v', alice, send);
    const pd = flights.run('v', { ...bob, headers: { 'accept-language': 'fr' } }, send);
    calls[2]!.release(answer({ 'cache-control': 'public', vary: 'Accept-Language' }));
    await pc;
    await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(4);
    calls[3]!.release(answer());
    expect((await pd).collapsed).toBe(false);
  });

  it('reads public, private and Vary as the RFC says', () => {
    expect(isPublic({ 'cache-control': 'public, max-age=60' })).toBe(true);
    expect(isPublic({ 'cache-control': 's-maxage=60' })).toBe(true);
    expect(isPublic({ 'cache-control': 'private, public' })).toBe(false);
    expect(isPublic({ 'cache-control': 'max-age=60' })).toBe(false);
    expect(varyNames({ vary: 'Accept-Language, accept-encoding' })).toEqual([
      'accept-language',
      'accept-encoding',
    ]);
    const leader = { scope: undefined, headers: { a: '1' } };
    expect(shareable(answer({ vary: '*' }), leader, leader)).toBe(false);
    expect(shareable(answer({ vary: 'a' }), leader, { scope: undefined, headers: { a: '1' } })).toBe(true);
  });
});
