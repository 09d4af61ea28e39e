// A hand-written fixed-window limiter on Redis (no Gatehouse, no rate-limiter-flexible): one Lua script
// per request (INCR, PEXPIRE on the first hit, PTTL) over one ioredis client, with hand-limiter.mjs's
// window and policy. The least a Redis limiter that answers with RateLimit headers costs these apps
// here: the floor of the *-rate-limit-redis benchmarks.
import { Redis } from 'ioredis';
import { POINTS, WINDOW_MS } from './hand-limiter.mjs';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { enableOfflineQueue: false });
redis.defineCommand('hit', {
  numberOfKeys: 1,
  lua: `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`,
});
await new Promise((ready, failed) => {
  redis.once('ready', ready);
  redis.once('error', failed);
});
// Each server process counts in its own namespace, as the Gatehouse candidates do.
const prefix = `gatehouse:bench:floor:${process.pid}:`;

/** Counts one request for `key`; resolves the RateLimit field value, or undefined when refused. */
export async function spend(key) {
  const [count, ttl] = await /** @type {any} */ (redis).hit(prefix + key, WINDOW_MS);
  if (count > POINTS) return undefined;
  return `"api";r=${POINTS - count};t=${Math.ceil(Math.max(ttl, 0) / 1000)}`;
}
