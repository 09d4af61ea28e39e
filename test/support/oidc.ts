// A real OpenID Provider (oidc-provider) in-process on a loopback port, for tests of the auth
// package against genuine tokens, a genuine JWKS route and a genuine introspection endpoint.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

/** How the provider's JWKS route answers; see {@link OidcHarness.jwksFault}. */
export type JwksFaultMode = 'ok' | '500' | 'garbage' | 'hang';

/** Options of {@link startOidcProvider}. */
export interface OidcProviderOptions {
  /**
   * Private signing keys (JWK with `d`). The first key signs access tokens, with its `alg` (when
   * absent: RS256, ES256/384/512 or EdDSA by key type); the others are only published. A key without `kid` gets its RFC 7638
   * thumbprint as `kid`.
   * @default one freshly generated RS256 key with a random kid
   */
  keys?: JWK[];
  /**
   * Lifetime of client_credentials access tokens, in seconds (a positive integer). One call can
   * override it with {@link TokenRequest.ttlSec}.
   * @default 300
   */
  accessTokenTtlSec?: number;
}

/** What {@link OidcHarness.token} asks the token endpoint for. */
export interface TokenRequest {
  /**
   * The resource indicator (RFC 8707).
   * @default the JWT resource ({@link OidcHarness.jwtResource})
   */
  resource?: string;
  /**
   * Space-separated scopes; the provider keeps those the resource server accepts.
   * @default no scope parameter (the token carries no scope)
   */
  scope?: string;
  /**
   * Lifetime of this one token, in seconds (a positive integer), e.g. 1 for a near-expiry token.
   * @default the harness's `accessTokenTtlSec`
   */
  ttlSec?: number;
}

/** Options of {@link OidcHarness.rotate}. */
export interface RotateOptions {
  /**
   * The new private signing keys; the first one signs.
   * @default one freshly generated RS256 key with a new kid
   */
  keys?: JWK[];
  /**
   * Also publish the keys in use before the rotation (after the new ones), so tokens signed before
   * it still verify against the new JWKS.
   * @default false
   */
  keepOld?: boolean;
}

/** A registered client's credentials. */
export interface OidcClientCredentials {
  clientId: string;
  clientSecret: string;
  /** A ready `Authorization` header value for client_secret_basic. */
  authorization: string;
}

/** A running OpenID Provider; see {@link startOidcProvider}. */
export interface OidcHarness {
  /** The issuer identifier, `http://127.0.0.1:<port>` (no trailing slash). */
  readonly issuer: string;
  /** The port the provider listens on; the same after {@link OidcHarness.rotate}. */
  readonly port: number;
  /** The JWKS route (public keys), subject to {@link OidcHarness.jwksFault}. */
  readonly jwksUri: string;
  /** The token endpoint (client_credentials grant). */
  readonly tokenEndpoint: string;
  /** The introspection endpoint (RFC 7662); only opaque tokens can be introspected. */
  readonly introspectionEndpoint: string;
  /** Resource indicator whose access tokens are JWTs (RFC 9068, `typ: at+jwt`); scopes `read write admin`. */
  readonly jwtResource: string;
  /** Resource indicator whose access tokens are opaque (for introspection); scopes `read write admin`. */
  readonly opaqueResource: string;
  /** The client allowed the client_credentials grant with scopes `read write admin`. */
  readonly client: OidcClientCredentials;
  /** A confidential client with no grants, for calling the introspection endpoint. */
  readonly introspectionClient: OidcClientCredentials;
  /** The kid of the key that currently signs access tokens. */
  readonly kid: string;
  /**
   * The private keys currently configured (copies), first one signing. Tests can use them to forge
   * tokens a real issuer key signed but the provider never issued (wrong audience, odd claims).
   */
  readonly signingKeys: readonly JWK[];
  /** How many requests reached the JWKS route since start, faulted ones included. */
  readonly jwksRequests: number;
  /** Errors the provider reported as `server_error` (500 answers); empty when all went well. */
  readonly serverErrors: readonly Error[];
  /** Obtains an access token with the client_credentials grant over HTTP; throws on a refusal. */
  token(request?: TokenRequest): Promise<string>;
  /**
   * Restarts the provider with new signing keys: a new provider instance, configured afresh, answers
   * on the same port from the next request on. The listening socket and open connections are kept,
   * because dropping keep-alive connections makes clients' next request fail at random (a pooled
   * socket closed under them), which would make the tests that use this flaky. Issued opaque tokens
   * survive (the token store outlives the restart, as a database would); the fault mode, the
   * request counter and hung JWKS requests are kept.
   */
  rotate(options?: RotateOptions): Promise<void>;
  /**
   * Sets how the JWKS route answers from now on: `ok` (the provider's real JWKS), `500` (status
   * 500), `garbage` (status 200 with a JWKS content type and a body that is not JSON), `hang` (never
   * answers; the request stays open until the client gives up or {@link OidcHarness.close}).
   */
  jwksFault(mode: JwksFaultMode): void;
  /** Stops the provider and drops its connections. */
  close(): Promise<void>;
}

const JWT_RESOURCE = 'urn:gatehouse:api';
const OPAQUE_RESOURCE = 'urn:gatehouse:opaque';
const RESOURCE_SCOPES = 'read write admin';
// A request header the harness's own token() sets to ask for a per-token lifetime. The token
// endpoint takes no extra parameters, so the TTL function reads the header from the request instead.
const TTL_HEADER = 'x-oidc-harness-ttl';

// oidc-provider ships no type declarations (they live in @types/oidc-provider, not installed), so
// this is the small part of its API the harness uses.
interface ProviderInstance {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  urlFor(name: string): string;
  on(event: 'server_error', listener: (ctx: unknown, error: Error) => void): unknown;
}
interface ProviderModule {
  Provider: new (issuer: string, configuration: Record<string, unknown>) => ProviderInstance;
  errors: { InvalidTarget: new (description?: string) => Error };
}
/** The Koa context of the provider, as far as the configuration callbacks below read it. */
interface ProviderContext {
  get(header: string): string;
}
interface ProviderClient {
  clientAuthMethod: string;
}

let loading: Promise<ProviderModule> | undefined;

/**
 * Loads oidc-provider once. It prints "Unsupported runtime" on Node 20 at import; Gatehouse supports
 * Node >= 20.19 and only uses the provider in tests, so that one line is kept out of test output.
 */
function loadProvider(): Promise<ProviderModule> {
  loading ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime'))
        return;
      warn.apply(console, args);
    };
    try {
      // @ts-expect-error -- untyped module; narrowed to ProviderModule right here.
      return (await import('oidc-provider')) as ProviderModule;
    } finally {
      console.warn = warn;
    }
  })();
  return loading;
}

/** A stored provider artifact (an opaque token, mostly) and when it expires (ms since epoch). */
interface Stored {
  payload: Record<string, unknown>;
  expiresAt: number;
}

/**
 * The provider's storage. Written here rather than using the bundled memory adapter because that one
 * is per provider instance, and opaque tokens must survive rotate(); it also prints a warning.
 */
function storageAdapter(store: Map<string, Stored>) {
  return (model: string) => {
    const key = (id: string) => `${model}:${id}`;
    const find = async (id: string) => {
      const entry = store.get(key(id));
      if (!entry) return undefined;
      if (entry.expiresAt <= Date.now()) {
        store.delete(key(id));
        return undefined;
      }
      return entry.payload;
    };
    return {
      async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
        const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY;
        store.set(key(id), { payload, expiresAt });
      },
      find,
      // Sessions and device codes never exist here: no end users, no device flow.
      async findByUid() {
        return undefined;
      },
      async findByUserCode() {
        return undefined;
      },
      async consume(id: string) {
        const payload = await find(id);
        if (payload) payload['consumed'] = Math.floor(Date.now() / 1000);
      },
      async destroy(id: string) {
        store.delete(key(id));
      },
      async revokeByGrantId(grantId: string) {
        for (const [k, entry] of store) if (entry.payload['grantId'] === grantId) store.delete(k);
      },
    };
  };
}

async function generateSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: crypto.randomUUID(), alg: 'RS256', use: 'sig' };
}

async function withKids(keys: readonly JWK[]): Promise<JWK[]> {
  if (keys.length === 0) throw new TypeError('at least one signing key is required');
  return Promise.all(
    keys.map(async (jwk) => ({ ...jwk, kid: jwk.kid ?? (await calculateJwkThumbprint(jwk)) })),
  );
}

/** The JWS algorithm a key signs with: its own `alg`, else the usual one for its type. */
function signingAlg(jwk: JWK): string {
  if (jwk.alg) return jwk.alg;
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC' && jwk.crv?.startsWith('P-'))
    return jwk.crv === 'P-521' ? 'ES512' : `ES${jwk.crv.slice(2)}`;
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  throw new TypeError(`no signing algorithm known for a ${jwk.kty} key; give it an alg`);
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`${name} must be a positive integer`);
  return value;
}

function basic(clientId: string, clientSecret: string): string {
  // client_secret_basic form-encodes both parts before base64 (RFC 6749 section 2.3.1).
  const encoded = `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`;
  return `Basic ${Buffer.from(encoded).toString('base64')}`;
}

function credentials(clientId: string): OidcClientCredentials {
  const clientSecret = crypto.randomUUID();
  return { clientId, clientSecret, authorization: basic(clientId, clientSecret) };
}

/**
 * Starts a real OpenID Provider (oidc-provider 9) on `127.0.0.1`, a free port, over plain HTTP.
 * It issues client_credentials access tokens for two resource servers: {@link OidcHarness.jwtResource}
 * (JWT access tokens signed with the first configured key) and {@link OidcHarness.opaqueResource}
 * (opaque tokens, answerable by introspection). Always `close()` it.
 *
 * @example
 * const oidc = await startOidcProvider();
 * const token = await oidc.token({ resource: oidc.jwtResource, scope: 'read' });
 * // ... verify against oidc.jwksUri, then:
 * await oidc.close();
 */
export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<OidcHarness> {
  const { Provider, errors } = await loadProvider();
  const defaultTtl = positiveInteger(options.accessTokenTtlSec ?? 300, 'accessTokenTtlSec');
  const client = credentials('gatehouse-service');
  const introspectionClient = credentials('gatehouse-introspector');
  const store = new Map<string, Stored>();
  const cookieKeys = [crypto.randomUUID()];
  const serverErrors: Error[] = [];

  let keys = await withKids(options.keys ?? [await generateSigningKey()]);
  let fault: JwksFaultMode = 'ok';
  let jwksRequests = 0;

  function ttlOf(ctx: ProviderContext | undefined): number {
    const asked = ctx?.get(TTL_HEADER);
    return asked ? Number(asked) : defaultTtl;
  }

  function createProvider(signing: readonly JWK[]): ProviderInstance {
    const signer = signing[0]!;
    const alg = signingAlg(signer);
    const provider = new Provider(issuer, {
      jwks: { keys: signing.map((jwk) => ({ ...jwk })) },
      adapter: storageAdapter(store),
      clients: [
        {
          client_id: client.clientId,
          client_secret: client.clientSecret,
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          scope: RESOURCE_SCOPES,
        },
        {
          client_id: introspectionClient.clientId,
          client_secret: introspectionClient.clientSecret,
          grant_types: [],
          response_types: [],
          redirect_uris: [],
        },
      ],
      // Static clients are checked against the keystore: their ID token algorithm must be one a
      // configured key can produce, even though no ID token is ever issued here.
      clientDefaults: { id_token_signed_response_alg: alg },
      // Declared so that the client's `scope` restricts what it may ask for.
      scopes: ['read', 'write', 'admin'],
      cookies: { keys: cookieKeys },
      // No end users: nothing ever looks an account up, but the default warns when it is called.
      findAccount: async () => undefined,
      clientBasedCORS: () => false,
      ttl: { ClientCredentials: (ctx: ProviderContext | undefined) => ttlOf(ctx) },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: {
          enabled: true,
          // Any confidential client may introspect any token: the gateway is trusted here.
          allowedPolicy: async (_ctx: unknown, caller: ProviderClient) => caller.clientAuthMethod !== 'none',
        },
        resourceIndicators: {
          enabled: true,
          // A client_credentials request without `resource` gets the JWT resource.
          defaultResource: async (_ctx: unknown, _client: unknown, oneOf?: string[]) => oneOf ?? JWT_RESOURCE,
          useGrantedResource: async () => false,
          getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
            if (indicator === JWT_RESOURCE) {
              return {
                scope: RESOURCE_SCOPES,
                accessTokenFormat: 'jwt',
                // The kid pins the first key: with several keys of one type any could be chosen.
                jwt: { sign: { alg, kid: signer.kid } },
              };
            }
            if (indicator === OPAQUE_RESOURCE) {
              return { scope: RESOURCE_SCOPES, accessTokenFormat: 'opaque' };
            }
            throw new errors.InvalidTarget();
          },
        },
      },
    });
    provider.on('server_error', (_ctx, error) => serverErrors.push(error));
    return provider;
  }

  // Until the first provider exists (the issuer names the port, so the port comes first) nothing
  // can call, but answer anyway rather than leave a socket open.
  let jwksPath: string | undefined;
  let handle = (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(503).end();
  };

  const server = createServer((req, res) => {
    // The query string is irrelevant to the route, as it is to the provider's own router.
    if (req.url?.split('?', 1)[0] !== jwksPath) return handle(req, res);
    jwksRequests++;
    switch (fault) {
      case 'ok':
        return handle(req, res);
      case '500':
        res.writeHead(500, { 'content-type': 'text/plain' }).end('injected JWKS failure');
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end('<html>no keys here');
        return;
      case 'hang':
        // Never answered; close() ends it with the connection.
        return;
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  let provider: ProviderInstance;
  try {
    provider = createProvider(keys);
  } catch (error) {
    // oidc-provider checks the keys only now (a public key, an unusable alg): leave no listener behind.
    server.close();
    throw error;
  }
  jwksPath = new URL(provider.urlFor('jwks')).pathname;
  handle = provider.callback();

  const harness: OidcHarness = {
    issuer,
    port,
    get jwksUri() {
      return provider.urlFor('jwks');
    },
    get tokenEndpoint() {
      return provider.urlFor('token');
    },
    get introspectionEndpoint() {
      return provider.urlFor('introspection');
    },
    jwtResource: JWT_RESOURCE,
    opaqueResource: OPAQUE_RESOURCE,
    client,
    introspectionClient,
    get kid() {
      return keys[0]!.kid!;
    },
    get signingKeys() {
      return keys.map((jwk) => ({ ...jwk }));
    },
    get jwksRequests() {
      return jwksRequests;
    },
    serverErrors,

    async token(request = {}) {
      const body = new URLSearchParams({ grant_type: 'client_credentials' });
      body.set('resource', request.resource ?? JWT_RESOURCE);
      if (request.scope !== undefined) body.set('scope', request.scope);
      const headers: Record<string, string> = { authorization: client.authorization };
      if (request.ttlSec !== undefined)
        headers[TTL_HEADER] = String(positiveInteger(request.ttlSec, 'ttlSec'));
      const res = await fetch(harness.tokenEndpoint, { method: 'POST', headers, body });
      const text = await res.text();
      if (!res.ok) throw new Error(`token endpoint refused (${res.status}): ${text}`);
      const token = (JSON.parse(text) as { access_token?: unknown }).access_token;
      if (typeof token !== 'string') throw new Error('token endpoint answered without an access_token');
      return token;
    },

    async rotate(rotation = {}) {
      const fresh = await withKids(rotation.keys ?? [await generateSigningKey()]);
      const next = rotation.keepOld
        ? [...fresh, ...keys.filter((k) => !fresh.some((f) => f.kid === k.kid))]
        : fresh;
      // Built before the swap, so a bad key set leaves the running provider alone.
      provider = createProvider(next);
      keys = next;
      handle = provider.callback();
    },

    jwksFault(mode) {
      fault = mode;
    },

    async close() {
      if (!server.listening) return;
      const closed = once(server, 'close');
      server.close();
      // Hung JWKS requests and clients' keep-alive sockets would otherwise hold close() open.
      server.closeAllConnections();
      await closed;
    },
  };
  return harness;
}
