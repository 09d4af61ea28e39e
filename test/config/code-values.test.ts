// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${…} references are what these tests write
// A configuration object may hold what only code can give — a logger, a KeyObject, a function — beside
// `${…}` references that read as numbers. Building a gateway from one used to throw a DataCloneError
// (the loader structuredCloned the object to coerce `${POINTS}`), and substitution copied every object
// it met, so a logger whose methods live on its prototype arrived as an empty object. Here the code
// values work in a running gateway on every framework, and apply() with another logger switches to it.
import { createSecretKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, test } from 'vitest';
import { FRAMEWORKS } from '../support/apps.js';
import { type ConfiguredApp, getJson, startConfigured } from './support.js';

/** A logger as a class: methods on the prototype, lines in a private field (a copy has neither). */
class Lines {
  readonly #lines: Record<string, unknown>[] = [];
  info(obj: Record<string, unknown>): void {
    this.#lines.push(obj);
  }
  get lines(): readonly Record<string, unknown>[] {
    return this.#lines;
  }
}

const key = createSecretKey(Buffer.from('a-shared-secret-of-thirty-two-bytes!'));
const token = (sub: string) =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuer('https://issuer.example')
    .setAudience('api')
    .setExpirationTime('5m')
    .sign(key);

const toPrincipal = (claims: { sub?: string }) => ({ id: `user:${claims.sub}` });

function config(logger: Lines) {
  return {
    accessLog: { logger },
    auth: {
      methods: [
        {
          jwt: {
            keys: [{ key, alg: 'HS256' }],
            issuer: 'https://issuer.example',
            audience: 'api',
            toPrincipal,
          },
        },
      ],
      default: 'authenticated',
    },
    rateLimit: { limits: [{ points: '${POINTS}', duration: 60 }] },
  };
}

const apps: ConfiguredApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

describe.each(FRAMEWORKS)('%s: code values in gatewayFromConfig', (framework) => {
  test('a logger object, a KeyObject and a function beside ${POINTS}: each does its part', async () => {
    const first = new Lines();
    const app = await startConfigured(framework, { config: config(first) }, { env: { POINTS: '1' } });
    apps.push(app);
    const bearer = { authorization: `Bearer ${await token('ada')}` };
    expect((await getJson(`${app.url}/hello`, { headers: bearer })).status).toBe(200);
    expect((await getJson(`${app.url}/hello`)).status).toBe(401);
    // `${POINTS}` read as 1: the caller's second request of the minute is refused.
    const limited = await getJson(`${app.url}/hello`, { headers: bearer });
    expect(limited.status).toBe(429);
    // The class instance itself logs; the principal is what toPrincipal made of the KeyObject-verified token.
    await expect.poll(() => first.lines.length).toBe(3);
    expect(first.lines.map((l) => [l.status, l.principal])).toEqual([
      [200, 'user:ada'],
      [401, undefined],
      [429, 'user:ada'],
    ]);

    // Another logger is another configuration (code values compare by identity): applied (its
    // `${POINTS}` read from the env the gateway was built with), it logs.
    const second = new Lines();
    const result = await app.gw.configuration!.apply(config(second));
    expect(result.changed).toContain('accessLog');
    expect(result.changed).not.toContain('auth');
    expect((await getJson(`${app.url}/hello`, { headers: bearer })).status).toBe(429);
    await expect.poll(() => second.lines.length).toBe(1);
    expect(first.lines).toHaveLength(3);
  });
});
