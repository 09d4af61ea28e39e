import { describe, expect, it } from 'vitest';
import { admin, createAdminPolicy, endpointMethods } from './admin.js';
import { ConfigError } from './config/index.js';
import { AdminForbidden, isGatehouseError } from './errors.js';
import type { Exchange } from './exchange.js';
import type { Middleware } from './middleware.js';

/** Just what the policy reads: the connection's peer and local port, the method, the path. */
function exchangeFrom(peer: string, localPort = 3000, path = '/metrics', method = 'GET'): Exchange {
  return {
    req: { socket: { remoteAddress: peer, localPort } },
    path,
    method,
    state: {},
  } as unknown as Exchange;
}

function refusal(run: () => unknown): { code?: string; status?: number; message?: string } | undefined {
  try {
    run();
  } catch (error) {
    if (isGatehouseError(error)) return error;
    throw error;
  }
  return undefined;
}

describe('createAdminPolicy', () => {
  it('admits nobody by default, and says how to configure access', () => {
    const policy = createAdminPolicy();
    expect(policy.configured).toBe(false);
    for (const peer of ['127.0.0.1', '::1', '10.0.0.1', '203.0.113.9']) {
      const refused = refusal(() => policy.check(exchangeFrom(peer)));
      expect(refused?.code, peer).toBe(AdminForbidden.spec.code);
      expect(refused?.status).toBe(403);
      expect(refused?.message).toMatch(/admin\.access/);
    }
  });

  it('admits listed peers by socket address (IPv4-mapped folded), and nobody else', () => {
    const policy = createAdminPolicy({ peers: ['loopback', '10.0.0.0/8'] });
    for (const peer of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '10.20.30.40']) {
      expect(policy.check(exchangeFrom(peer)), peer).toBeUndefined();
    }
    for (const peer of ['203.0.113.9', '192.168.1.1', '2001:db8::1', '']) {
      expect(refusal(() => policy.check(exchangeFrom(peer)))?.code, peer).toBe('GH_ADMIN_FORBIDDEN');
    }
  });

  it('admits anyone on a listed local port (a separate listener), and only there', () => {
    const policy = createAdminPolicy({ ports: [9090] });
    expect(policy.check(exchangeFrom('203.0.113.9', 9090))).toBeUndefined();
    expect(refusal(() => policy.check(exchangeFrom('127.0.0.1', 3000)))?.code).toBe('GH_ADMIN_FORBIDDEN');
  });

  it('dangerouslyPublic admits every reader, and no writer', () => {
    const policy = createAdminPolicy({ dangerouslyPublic: true });
    for (const method of ['GET', 'HEAD'])
      expect(policy.check(exchangeFrom('203.0.113.9', 3000, '/metrics', method)), method).toBeUndefined();
    for (const [peer, method] of [
      ['203.0.113.9', 'POST'],
      ['127.0.0.1', 'POST'],
      ['127.0.0.1', 'DELETE'],
      ['127.0.0.1', 'PUT'],
    ] as const) {
      const refused = refusal(() => policy.check(exchangeFrom(peer, 3000, '/migration/promote', method)));
      expect(refused?.code, `${peer} ${method}`).toBe('GH_ADMIN_FORBIDDEN');
      expect(refused?.message).toMatch(/dangerouslyPublic admits reads only.*admin\.access\.write/);
    }
  });

  it("without write entries, the readers' peers, ports and guard admit writers too", async () => {
    const policy = createAdminPolicy({ dangerouslyPublic: true, peers: ['loopback'], ports: [9090] });
    expect(policy.check(exchangeFrom('127.0.0.1', 3000, '/x', 'POST'))).toBeUndefined();
    expect(policy.check(exchangeFrom('203.0.113.9', 9090, '/x', 'DELETE'))).toBeUndefined();
    const refused = refusal(() => policy.check(exchangeFrom('203.0.113.9', 3000, '/x', 'POST')));
    expect(refused?.message).toBe('This caller may not change anything through the admin endpoints');
    const guard: Middleware = {
      name: 'ops',
      onRequest: (exchange) => {
        if ((exchange.state as { ops?: boolean }).ops !== true) throw new AdminForbidden('not ops');
      },
    };
    const guarded = createAdminPolicy({ guard });
    const ops = exchangeFrom('203.0.113.9', 3000, '/x', 'POST');
    (ops.state as { ops?: boolean }).ops = true;
    expect(guarded.check(ops)).toBeUndefined();
    expect(refusal(() => guarded.check(exchangeFrom('203.0.113.9', 3000, '/x', 'POST')))?.message).toBe(
      'not ops',
    );
  });

  it('write, when given, decides alone who writes; reads are unchanged', () => {
    // The private network reads; only this host (or the operators' port) writes.
    const policy = createAdminPolicy({
      peers: ['private', 'loopback'],
      write: { peers: ['loopback'], ports: [9090] },
    });
    expect(policy.check(exchangeFrom('10.1.2.3', 3000, '/migration'))).toBeUndefined();
    expect(
      refusal(() => policy.check(exchangeFrom('10.1.2.3', 3000, '/migration/promote', 'POST')))?.code,
    ).toBe('GH_ADMIN_FORBIDDEN');
    expect(policy.check(exchangeFrom('127.0.0.1', 3000, '/migration/promote', 'POST'))).toBeUndefined();
    expect(policy.check(exchangeFrom('203.0.113.9', 9090, '/migration/promote', 'POST'))).toBeUndefined();
    // The operators' port is a writers' entry only: reading from there needs a readers' entry.
    expect(refusal(() => policy.check(exchangeFrom('203.0.113.9', 9090, '/migration')))?.code).toBe(
      'GH_ADMIN_FORBIDDEN',
    );
    // write: {} admits no writer at all.
    const readOnly = createAdminPolicy({ peers: ['loopback'], write: {} });
    expect(readOnly.check(exchangeFrom('127.0.0.1'))).toBeUndefined();
    expect(refusal(() => readOnly.check(exchangeFrom('127.0.0.1', 3000, '/x', 'POST')))?.code).toBe(
      'GH_ADMIN_FORBIDDEN',
    );
    // An explicit write.dangerouslyPublic opens writes to everyone.
    const open = createAdminPolicy({ dangerouslyPublic: true, write: { dangerouslyPublic: true } });
    expect(open.check(exchangeFrom('203.0.113.9', 3000, '/x', 'POST'))).toBeUndefined();
  });

  it('runs the guard for everyone else: its refusal is the answer, continuing admits', async () => {
    const seen: string[] = [];
    const guard: Middleware = {
      name: 'token',
      async onRequest(exchange) {
        seen.push(exchange.path);
        if ((exchange.state as { ok?: boolean }).ok !== true) {
          throw Object.assign(new AdminForbidden('no token'), {});
        }
      },
    };
    const policy = createAdminPolicy({ peers: ['loopback'], guard });
    // A listed peer does not need the guard.
    expect(policy.check(exchangeFrom('127.0.0.1'))).toBeUndefined();
    expect(seen).toEqual([]);
    const denied = exchangeFrom('203.0.113.9');
    await expect(policy.check(denied)).rejects.toThrow('no token');
    const allowed = exchangeFrom('203.0.113.9');
    (allowed.state as { ok?: boolean }).ok = true;
    await expect(policy.check(allowed)).resolves.toBeUndefined();
    expect(seen).toEqual(['/metrics', '/metrics']);
  });

  it('refuses malformed options when compiled, every problem in one ConfigError', () => {
    let error: unknown;
    try {
      createAdminPolicy(
        {
          peers: ['everyone'],
          ports: [0, 9090],
          guard: (() => undefined) as unknown as Middleware,
          dangerouslyPublc: true,
          write: { peers: ['loopbak'], prots: [9090], dangerouslyPublic: 'yes' },
        } as never,
        { filePaths: 'yes' } as never,
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.path)).toEqual([
      'admin.access.dangerouslyPublc',
      'admin.access.peers',
      'admin.access.ports[0]',
      'admin.access.guard',
      'admin.access.write.prots',
      'admin.access.write.peers',
      'admin.access.write.dangerouslyPublic',
      'admin.reveal.filePaths',
    ]);
    expect((error as ConfigError).problems[4]!.message).toBe("unknown option; did you mean 'ports'?");
    expect((error as ConfigError).problems[0]!.message).toBe(
      "unknown option; did you mean 'dangerouslyPublic'?",
    );
  });
});

describe('AdminView', () => {
  it('shows base names and hides request data unless revealed', () => {
    const hidden = createAdminPolicy().view;
    expect(hidden.filePaths).toBe(false);
    expect(hidden.requestData).toBe(false);
    expect(hidden.file('/srv/app/config/routes.yaml')).toBe('routes.yaml');
    expect(hidden.redactFiles('/srv/app/routes.yaml:3:1: syntax error', ['/srv/app/routes.yaml'])).toBe(
      'routes.yaml:3:1: syntax error',
    );
    const shown = createAdminPolicy({}, { filePaths: true, requestData: true }).view;
    expect(shown.file('/srv/app/routes.yaml')).toBe('/srv/app/routes.yaml');
    expect(shown.redactFiles('/srv/app/routes.yaml: x', ['/srv/app/routes.yaml'])).toBe(
      '/srv/app/routes.yaml: x',
    );
    expect(shown.requestData).toBe(true);
  });
});

describe('admin()', () => {
  const endpoints = new Map([
    ['/metrics', { handle: () => ({ status: 200, body: 'm' }), methods: endpointMethods() }],
    ['/cache/flush', { handle: () => ({ status: 204 }), methods: endpointMethods({ methods: ['POST'] }) }],
  ]);
  const target = { state: 'ready', ready: true, adminEndpoints: endpoints };

  it('keeps /health and /ready open while every other endpoint needs the policy', async () => {
    const mw = admin(target);
    expect(await mw.onRequest!(exchangeFrom('203.0.113.9', 3000, '/health'))).toMatchObject({ status: 200 });
    expect(await mw.onRequest!(exchangeFrom('203.0.113.9', 3000, '/ready'))).toMatchObject({ status: 200 });
    expect(refusal(() => mw.onRequest!(exchangeFrom('127.0.0.1', 3000, '/metrics')))?.code).toBe(
      'GH_ADMIN_FORBIDDEN',
    );
    const open = admin(target, { access: { peers: ['loopback'] } });
    expect(await open.onRequest!(exchangeFrom('127.0.0.1', 3000, '/metrics'))).toEqual({
      status: 200,
      body: 'm',
    });
    expect(await open.onRequest!(exchangeFrom('127.0.0.1', 3000, '/METRICS'))).toEqual({
      status: 200,
      body: 'm',
    });
    expect(await open.onRequest!(exchangeFrom('127.0.0.1', 3000, '/other'))).toBeUndefined();
  });

  it('answers the methods an endpoint registered, 405 with Allow otherwise, before the access check', () => {
    const open = admin(target, { access: { dangerouslyPublic: true, write: { dangerouslyPublic: true } } });
    expect(open.onRequest!(exchangeFrom('127.0.0.1', 3000, '/cache/flush', 'POST'))).toEqual({ status: 204 });
    const wrong = refusal(() => open.onRequest!(exchangeFrom('127.0.0.1', 3000, '/cache/flush', 'GET')));
    expect(wrong).toMatchObject({ code: 'GH_METHOD_NOT_ALLOWED', headers: { allow: 'POST' } });
    const head = open.onRequest!(exchangeFrom('127.0.0.1', 3000, '/metrics', 'HEAD'));
    expect(head).toEqual({ status: 200, body: 'm' });
  });

  it('endpointMethods: GET brings HEAD; methods are upper-case tokens', () => {
    expect([...endpointMethods()]).toEqual(['GET', 'HEAD']);
    expect([...endpointMethods({ methods: ['POST', 'DELETE'] })]).toEqual(['POST', 'DELETE']);
    expect(() => endpointMethods({ methods: ['post'] })).toThrow(TypeError);
    expect(() => endpointMethods({ methods: [] })).toThrow(TypeError);
  });
});
