// What every key of a configuration file means and what it is when left out, for the keys whose
// package schema says neither, by path (`services.*.retry`, `routes[].mode`; `*` a record's entry,
// `[]` an array's element). The JSON Schema (editors' hover text and `default`) and the configuration
// reference (docs/configuration.md) are generated with it; a test fails when a key of the schema has
// no description or no default, when an entry names no key, or when an entry's default contradicts
// the one the schema states. The capability READMEs stay the full account of each option.
//
// A default is a value (JSON: shown as code, and an editor's `default`) or, where leaving the key out
// means something no value says ("every method", "the client's timeouts.bodyMs"), those words.
// Schemas used in several places (a requirement, a limiter window) are described once under a `~`
// name that ALIASES maps their paths to.

/** A key's default: a value, or what leaving the key out means. */
export type KeyDefault = { readonly value: unknown } | { readonly unset: string };

/** A key's meaning, and its default (none for a required key). */
export interface KeyDoc {
  readonly description: string;
  readonly default?: KeyDefault;
}

const v = (value: unknown): KeyDefault => ({ value });
const u = (unset: string): KeyDefault => ({ unset });
const doc = (description: string, defaultValue?: KeyDefault): KeyDoc =>
  defaultValue === undefined ? { description } : { description, default: defaultValue };

/** Words for the usual meanings of an absent key. */
const NONE = u('none');
const OFF = u('off');
const EACH = u("each key's default");

/** Paths that share a definition, rewritten to the entry that describes it (tried in order, repeatedly). */
export const ALIASES: readonly (readonly [RegExp, string])[] = [
  [/^rateLimit\[\]/, 'rateLimit'],
  [/^admin\.access\.(?:write\.)?require\./, '~requirement.'],
  [/^auth\.default\./, '~requirement.'],
  [/^auth\.rules\[\]\.(anonymous|deny|scopes|roles|methods)$/, '~requirement.$1'],
  [/^(services\.\*\.breaker)\.service/, '$1.endpoint'],
  [/^rateLimit\.(?:routes\[\]\.)?(?:limits\[\]|tiers\.\*\[\])\./, '~window.'],
  [/^rateLimit\.routes\[\]\.key/, 'rateLimit.key'],
  [/^rateLimit\.key\[\]\.header$/, 'rateLimit.key.header'],
  [/^(rateLimit\.store|cache)\.redis\.url$/, '~redis.url'],
];

export const KEY_DOCS: Readonly<Record<string, KeyDoc>> = {
  // ---------------------------------------------------------------------------------------------
  // server
  'server.host': doc('Address to listen on.', u("every address ('::')")),

  // ---------------------------------------------------------------------------------------------
  // services (@gatehousejs/client, @gatehousejs/discovery)
  'services.*.url': doc(
    'Base URL of the one instance, http or https, without credentials. Give one of url, endpoints, dns, etcd.',
    NONE,
  ),
  'services.*.endpoints': doc('Base URLs of interchangeable instances (at least one).', NONE),
  'services.*.dns': doc(
    'Find the instances in DNS (SRV, A, AAAA), followed as records change (see @gatehousejs/discovery dnsResolver).',
    NONE,
  ),
  'services.*.dns.name': doc(
    'The DNS name: for SRV the full service name (_http._tcp.orders.default.svc.cluster.local), else a host name; absolute, no search domains.',
  ),
  'services.*.dns.type': doc('The record type asked for.', v('SRV')),
  'services.*.dns.port': doc(
    'The port of every endpoint: required for A, AAAA and A+AAAA; not allowed with SRV.',
    NONE,
  ),
  'services.*.dns.protocol': doc('The protocol of every endpoint.', v('http:')),
  'services.*.dns.srvTargets': doc(
    "How SRV targets become endpoints: resolved to addresses ('A', 'AAAA', 'A+AAAA') or the target name as the host ('hostname').",
    v('A+AAAA'),
  ),
  'services.*.dns.servers': doc(
    "DNS servers asked in order: '10.0.0.2', '127.0.0.1:5353', '[fd00::53]:53'.",
    u("the system's (dns.getServers())"),
  ),
  'services.*.dns.minTtlMs': doc(
    'Refresh no sooner than this after a success, in ms (not above maxTtlMs).',
    v(1000),
  ),
  'services.*.dns.maxTtlMs': doc('Refresh at least this often, in ms.', v(30_000)),
  'services.*.dns.timeoutMs': doc('Per server, in ms: then the next server is asked.', v(2000)),
  'services.*.dns.retryInitialMs': doc(
    'After a failure, ask again after about this long, in ms (doubling per failure, with jitter).',
    v(500),
  ),
  'services.*.dns.retryMaxMs': doc('The longest wait between retries, in ms.', v(10_000)),
  'services.*.etcd': doc(
    'Find the instances under an etcd prefix, watched (see @gatehousejs/discovery etcdResolver).',
    NONE,
  ),
  'services.*.etcd.hosts': doc(
    "etcd's URL or URLs ('http://127.0.0.1:2379'); a client tuned to recover quickly is made and closed with the gateway.",
    u('none: needed in a file (a client object is code only)'),
  ),
  'services.*.etcd.prefix': doc("The key prefix; every key under it is one endpoint ('/services/orders/')."),
  'services.*.etcd.name': doc('Names the resolver in diagnostics.', u("'etcd:' + prefix")),
  'services.*.etcd.timeoutMs': doc('Deadline of each read, in ms.', v(5000)),
  'services.*.etcd.retryInitialMs': doc('After a failure, read again after about this long, in ms.', v(250)),
  'services.*.etcd.retryMaxMs': doc('The longest wait between retries, in ms.', v(5000)),
  'services.*.balancer': doc(
    "How an instance is chosen: 'p2c' (least request), 'round-robin' (smooth weighted), 'ewma' (peak-EWMA latency) or 'ring-hash'.",
    v('p2c'),
  ),
  'services.*.zone': doc("This gateway's zone: instances in it are preferred while any is eligible.", NONE),
  'services.*.connections': doc('Connections kept per instance (an undici Pool).', v(64)),
  'services.*.timeouts': doc('Timeouts of each call, in ms.', EACH),
  'services.*.timeouts.connectMs': doc('Connecting to an instance, in ms.', v(1000)),
  'services.*.timeouts.perTryMs': doc('One try (until the response head), in ms.', v(5000)),
  'services.*.timeouts.totalMs': doc('The whole call, every try included, in ms.', v(15_000)),
  'services.*.timeouts.bodyMs': doc(
    "Longest pause between two chunks of the response's body, in ms.",
    v(30_000),
  ),
  'services.*.retry': doc('Retries of failed tries, within a budget.', EACH),
  'services.*.retry.maxAttempts': doc('Tries in all, the first included.', v(3)),
  'services.*.retry.statuses': doc('Response statuses that are retried.', v([502, 503, 504])),
  'services.*.retry.nonIdempotent': doc(
    'Also retry methods that are not idempotent (POST, PATCH).',
    v(false),
  ),
  'services.*.retry.backoff': doc('Exponential backoff with jitter between tries.', EACH),
  'services.*.retry.backoff.baseMs': doc('The first wait, in ms.', v(25)),
  'services.*.retry.backoff.maxMs': doc('The longest wait, in ms.', v(1000)),
  'services.*.retry.budget': doc(
    'Retries allowed as a share of recent requests (Finagle-style), or false for no budget.',
    EACH,
  ),
  'services.*.retry.budget.ratio': doc('Retries per request, over ttlMs.', v(0.2)),
  'services.*.retry.budget.minPerSecond': doc(
    'Retries always allowed per second, however few the requests.',
    v(10),
  ),
  'services.*.retry.budget.ttlMs': doc('The window the budget is counted over, in ms.', v(10_000)),
  'services.*.breaker': doc(
    'Circuit breakers: per endpoint (on by default) and per service (off unless given); false turns both off.',
    v({ endpoint: {} }),
  ),
  'services.*.breaker.endpoint': doc('A breaker per endpoint, or false.', EACH),
  'services.*.breaker.service': doc(
    'A breaker for the whole service: the same keys as endpoint, or false.',
    OFF,
  ),
  'services.*.breaker.endpoint.mode': doc(
    "'consecutive' (opens after threshold failures in a row) or 'rate' (after a share of failures in windowMs).",
    v('consecutive'),
  ),
  'services.*.breaker.endpoint.threshold': doc(
    'Failures in a row (consecutive: an integer), or the failing share (rate: above 0, at most 1).',
    u('5 (consecutive), 0.5 (rate)'),
  ),
  'services.*.breaker.endpoint.windowMs': doc(
    'rate: the window the share is measured over, in ms.',
    v(10_000),
  ),
  'services.*.breaker.endpoint.minimumRps': doc('rate: least requests per second before it may open.', v(5)),
  'services.*.breaker.endpoint.halfOpenAfterMs': doc(
    'How long it stays open before one trial call, in ms.',
    v(5000),
  ),
  'services.*.breaker.endpoint.maxHalfOpenAfterMs': doc(
    'The longest open time, as failed trials double it, in ms.',
    v(60_000),
  ),
  'services.*.bulkhead': doc('At most maxConcurrent calls at once, maxPending waiting.', OFF),
  'services.*.bulkhead.maxConcurrent': doc('Calls in flight at once.'),
  'services.*.bulkhead.maxPending': doc(
    'Calls waiting for a slot; beyond, 503 GH_CLIENT_BULKHEAD_FULL.',
    v(0),
  ),
  'services.*.hedge': doc('A second try after delayMs for idempotent calls.', OFF),
  'services.*.hedge.delayMs': doc('How long to wait for the first try before hedging, in ms.'),
  'services.*.hedge.maxPercent': doc('At most this percent of calls are hedged.', v(10)),
  'services.*.outlier': doc('Passive outlier ejection of failing instances, or false.', EACH),
  'services.*.outlier.consecutiveFailures': doc('Failures in a row that eject an instance.', v(5)),
  'services.*.outlier.baseEjectionMs': doc('The first ejection, in ms (longer each time).', v(10_000)),
  'services.*.outlier.maxEjectionMs': doc('The longest ejection, in ms.', v(300_000)),
  'services.*.outlier.maxEjectionPercent': doc('At most this percent of instances ejected at once.', v(50)),
  'services.*.healthCheck': doc('Active health checks of every instance.', OFF),
  'services.*.healthCheck.path': doc("The path asked ('/health')."),
  'services.*.healthCheck.intervalMs': doc('Between two checks of an instance, in ms.', v(10_000)),
  'services.*.healthCheck.timeoutMs': doc('One check, in ms.', v(1000)),
  'services.*.healthCheck.healthyThreshold': doc(
    'Passing checks in a row that bring an instance back.',
    v(2),
  ),
  'services.*.healthCheck.unhealthyThreshold': doc('Failing checks in a row that take it out.', v(3)),
  'services.*.healthCheck.expectStatus': doc('Statuses that pass.', u('any 2xx')),
  'services.*.tls': doc(
    'Client TLS (mTLS): ca, cert, key as PEM text or files (watched), servername, the identity expected.',
    u("Node's defaults"),
  ),
  'services.*.tls.ca': doc('Trusted certificate authorities, PEM text.', u("Node's root certificates")),
  'services.*.tls.cert': doc('The client certificate (mTLS), PEM text.', NONE),
  'services.*.tls.key': doc("The client certificate's private key, PEM text.", NONE),
  'services.*.tls.files': doc(
    'The same as file paths, watched every watchIntervalMs: new connections use new certificates.',
    NONE,
  ),
  'services.*.tls.files.ca': doc('Path of the trusted authorities (PEM).', NONE),
  'services.*.tls.files.cert': doc('Path of the client certificate (PEM).', NONE),
  'services.*.tls.files.key': doc('Path of its private key (PEM).', NONE),
  'services.*.tls.watchIntervalMs': doc('How often the files are checked for changes, in ms.', v(1000)),
  'services.*.tls.servername': doc(
    'The SNI name and the name the certificate is checked against.',
    u("the endpoint's host name"),
  ),
  'services.*.tls.identity': doc(
    'The SANs the server must present (anything else fails closed, 502 GH_UPSTREAM_TLS).',
    u('the host name check only'),
  ),
  'services.*.tls.identity.dns': doc('DNS SANs accepted.', NONE),
  'services.*.tls.identity.uri': doc("URI SANs accepted ('spiffe://prod.example/ns/orders/sa/api').", NONE),
  'services.*.deadlineHeader': doc(
    'The header the remaining deadline is sent in; false: not sent.',
    v('x-deadline-ms'),
  ),

  // ---------------------------------------------------------------------------------------------
  // routes (@gatehousejs/routes)
  'routes[].name': doc(
    'Names the route in reports, metrics, events and the admin API (letters, digits, ., _, -; unique).',
    u('its path (with methods: "GET /x")'),
  ),
  'routes[].path': doc(
    "A path pattern on the normalized path ('/x', '/x/*', '/x/:id'), or a list of them: a group that moves as one.",
  ),
  'routes[].methods': doc('Upper-case methods.', u('every method')),
  'routes[].host': doc('Host(s) the request must be for; *.example.com needs a label.', u('every host')),
  'routes[].headers': doc('Headers that must be present (true) or equal a value.', NONE),
  'routes[].query': doc('Query parameters that must be present (true) or equal a value.', NONE),
  'routes[].version': doc(
    "API versions ('2', '2+') the route is for (needs versioning).",
    u('every version'),
  ),
  'routes[].service': doc(
    'The service (from services) the route sends requests to. Required unless the mode is local.',
    NONE,
  ),
  'routes[].mode': doc('local, shadow, split, fallback or remote.', u('remote with a service, else local')),
  'routes[].weight': doc('split: percent of callers (0–100) sent to the service.', v(0)),
  'routes[].rearm': doc(
    'Change it to re-arm the route after a gate moved it (the same as gatehouse rearm).',
    NONE,
  ),
  'routes[].sticky': doc(
    "What keeps a caller on one side of a split: 'principal' (the client IP when anonymous), 'ip', 'none', { cookie } or { header }.",
    v('principal'),
  ),
  'routes[].sticky.cookie': doc('The cookie whose value keeps a caller on one side.'),
  'routes[].sticky.header': doc('The header whose value keeps a caller on one side.'),
  'routes[].rewrite': doc(
    'Path prefixes towards the service; Location and cookie Path are mapped back.',
    NONE,
  ),
  'routes[].rewrite.from': doc("The prefix of the public path ('/api/orders')."),
  'routes[].rewrite.to': doc("What it becomes towards the service ('/orders')."),
  'routes[].requestHeaders': doc('Headers set or removed on the forwarded request, after hygiene.', NONE),
  'routes[].requestHeaders.set': doc('Headers set: name → value.', NONE),
  'routes[].requestHeaders.remove': doc('Header names removed.', NONE),
  'routes[].responseHeaders': doc("Headers set or removed on the service's response.", NONE),
  'routes[].responseHeaders.set': doc('Headers set: name → value.', NONE),
  'routes[].responseHeaders.remove': doc('Header names removed.', NONE),
  'routes[].timeoutMs': doc(
    'One deadline for the whole upstream call, every try included, in ms.',
    v(10_000),
  ),
  'routes[].bodyTimeoutMs': doc(
    "Longest pause between two chunks of the service's response, in ms (raise it for server-sent events).",
    u("the client's timeouts.bodyMs"),
  ),
  'routes[].internalHosts': doc(
    'Hosts that, in Location or cookie Domain, mean the service itself and are rewritten to the public host.',
    v([]),
  ),
  'routes[].shadow': doc('Limits on shadow copies.', EACH),
  'routes[].shadow.maxConcurrent': doc(
    'Copies in flight at once; beyond, requests go without a copy.',
    v(16),
  ),
  'routes[].shadow.maxBodyBytes': doc(
    'Request bodies larger than this are not copied; responses larger are not compared.',
    v(1_048_576),
  ),
  'routes[].shadow.methods': doc(
    'Methods copied: reads only by default, since a copied write would be applied twice.',
    v(['GET', 'HEAD']),
  ),
  'routes[].shadow.marker': doc(
    'Header (value 1) every copy carries so the service can tell it from real traffic; false: none.',
    v('gatehouse-shadow'),
  ),
  'routes[].shadow.sampleRate': doc('Share (0–1) of eligible requests copied.', v(1)),
  'routes[].shadow.noiseSampleRate': doc(
    'Share of copied GET/HEAD requests answered a second time locally to learn noise.',
    v(0.1),
  ),
  'routes[].diff': doc('How shadow answers are compared.', EACH),
  'routes[].diff.headers': doc(
    'Response headers compared (by meaning).',
    u(
      'DEFAULT_DIFF_HEADERS: content-type, location, cache-control, www-authenticate, allow, content-language, content-disposition',
    ),
  ),
  'routes[].diff.ignore': doc(
    "Paths never compared ('/meta/requestId', '/items/*/updatedAt', 'header:etag').",
    v([]),
  ),
  'routes[].diff.redact': doc(
    'Paths whose values are hidden in stored differences (authorization, cookie, set-cookie always are).',
    v([]),
  ),
  'routes[].diff.revealQuery': doc(
    "Query parameters whose values stored differences show ('*' for all); others read [redacted].",
    v([]),
  ),
  'routes[].diff.keep': doc('Latest differences kept.', v(50)),
  'routes[].diff.noiseThreshold': doc('Local pairs a field must differ in to count as noise.', v(1)),
  'routes[].diff.maxDifferencesPerResponse': doc('Differences recorded per compared answer.', v(20)),
  'routes[].fallback': doc('When fallback falls back, and how much body it keeps to replay.', EACH),
  'routes[].fallback.on': doc(
    'Failures that fall back to the local handler.',
    v(['connect', 'timeout', 'circuit', '5xx']),
  ),
  'routes[].fallback.nonIdempotentOn': doc(
    'The same for methods that are not idempotent (a POST that timed out may have been applied).',
    v(['connect', 'circuit']),
  ),
  'routes[].fallback.maxReplayBytes': doc(
    'Request bodies up to this are kept to replay locally.',
    v(1_048_576),
  ),
  'routes[].gates': doc('Thresholds that move the route back a stage; one left out is not checked.', EACH),
  'routes[].gates.windowMs': doc('The sliding window, in ms.', v(60_000)),
  'routes[].gates.minRequests': doc(
    'Requests (comparisons) each side needs in the window before a gate judges.',
    v(20),
  ),
  'routes[].gates.maxDiffRate': doc('shadow: highest share (0–1) of comparisons that differ.', NONE),
  'routes[].gates.maxErrorRateDelta': doc(
    'Service error rate minus local error rate (0–1), when both sides have traffic.',
    NONE,
  ),
  'routes[].gates.maxErrorRate': doc('Service error rate alone (fallback, remote).', NONE),
  'routes[].gates.maxContractViolationRate': doc(
    "Highest share of the service's answers breaking the OpenAPI contract (gw.validate()'s guard).",
    NONE,
  ),
  'routes[].gates.maxP99DeltaMs': doc('Service p99 minus local p99, in ms.', NONE),
  'routes[].promotion': doc(
    'Gated promotion: the route walks towards the service step by step as the evidence passes; true for the defaults.',
    OFF,
  ),
  'routes[].promotion.steps': doc(
    "The walk, strictly forward: 'shadow', 'split N', 'fallback', 'remote' or { mode, weight }.",
    v(['shadow', 'split 10', 'split 50', 'remote']),
  ),
  'routes[].promotion.steps[].mode': doc("The step's mode."),
  'routes[].promotion.steps[].weight': doc('split: percent of callers (above 0, below 100).', NONE),
  'routes[].promotion.holdMs': doc('Least time in a step before the next, in ms.', v(300_000)),
  'routes[].promotion.minSamples': doc('Requests (comparisons) each compared side needs in the step.', v(50)),
  'routes[].promotion.confidence': doc('Confidence of the one-sided tests (α = 1 − confidence).', v(0.99)),
  'routes[].promotion.confirm': doc(
    'Modes entered only when a person promotes (true: every step); the route waits in awaiting-confirmation.',
    v(false),
  ),
  'routes[].promotion.critical': doc('Gates whose fail vetoes alone.', v(['diff', 'errors', 'contract'])),
  'routes[].promotion.tolerance': doc('How much worse than the control the service may be.', EACH),
  'routes[].promotion.tolerance.diffRate': doc('Diff rate above the noise baseline.', v(0.01)),
  'routes[].promotion.tolerance.errorRate': doc("Error rate above the control's.", v(0.01)),
  'routes[].promotion.tolerance.contractRate': doc('Share of answers that break the contract.', v(0)),
  'routes[].promotion.tolerance.medianMs': doc("Median latency above the control's, in ms.", v(25)),
  'routes[].promotion.tolerance.p99Ms': doc("p99 latency above the control's, in ms.", v(100)),
  'routes[].promotion.scoreThresholds': doc(
    "Kayenta's score thresholds (0–100; marginal ≤ pass).",
    v({ pass: 95, marginal: 75 }),
  ),
  'routes[].promotion.scoreThresholds.pass': doc('Score at or above which the verdict is pass.', v(95)),
  'routes[].promotion.scoreThresholds.marginal': doc(
    'Score at or above which it is marginal (below: fail).',
    v(75),
  ),
  'routes[].websocket': doc(
    'Pass Upgrade (WebSocket) requests through when the route sends the request to the service.',
    v(false),
  ),
  'routes[].cache': doc("Serve the route's GETs through the response cache.", v(false)),
  'routes[].to': doc('Deprecated: write service and mode instead.', NONE),
  'routing.override': doc(
    'The per-request override header for testers (gatehouse-route: local | remote), honoured for principals with its scopes and roles; false turns it off.',
    v({ header: 'gatehouse-route', scopes: ['gatehouse:route-override'] }),
  ),
  'routing.override.header': doc('The header read.', v('gatehouse-route')),
  'routing.override.scopes': doc('Scopes the principal must all hold.', v(['gatehouse:route-override'])),
  'routing.override.roles': doc('Roles of which the principal must hold one.', NONE),
  'routing.gateIntervalMs': doc('How often gates (and promotion verdicts) are evaluated, in ms.', v(1000)),

  // ---------------------------------------------------------------------------------------------
  // tracing, access log (@gatehousejs/tracing)
  'tracing.propagators': doc(
    "Trace context formats read and written, in order: 'tracecontext', 'baggage', 'b3' (one header) or 'b3multi' (X-B3-*).",
    u('the global propagator (set by your SDK)'),
  ),
  'tracing.traceResponseHeader': doc('Answer with traceresponse: 00-<trace-id>-<span-id>-<flags>.', v(false)),
  'tracing.metrics': doc('Metrics.', EACH),
  'tracing.metrics.prometheus': doc(
    'Also keep metrics in-process and serve /metrics from the admin.',
    v(false),
  ),
  'accessLog.destination': doc(
    'Where the default logger writes: a file path (relative to this file; opened for appending) or a descriptor.',
    v(1),
  ),
  'accessLog.headers': doc('Request headers logged.', v(['user-agent', 'referer'])),
  'accessLog.redact': doc(
    'More header names or annotation keys logged as [redacted] (authorization, cookie, API keys always are).',
    v([]),
  ),
  'accessLog.queryParameters': doc(
    "Log the query with every value redacted except these parameters' ([] logs the names only).",
    u('the query is not logged'),
  ),
  'accessLog.message': doc('The message of each line.', v('request')),

  // ---------------------------------------------------------------------------------------------
  // auth (@gatehousejs/auth)
  'auth.methods': doc('Authentication methods, tried in order (see combine); one of each kind.'),
  'auth.methods[].jwt': doc(
    'JWTs verified against a JWKS endpoint or static keys (give one of jwks, keys); issuer required, audience unless dangerouslySkipAudienceCheck.',
    NONE,
  ),
  'auth.methods[].jwt.jwks': doc("The issuer's JWKS endpoint. Give exactly one of jwks and keys.", NONE),
  'auth.methods[].jwt.jwks.url': doc('The jwks_uri, http or https; redirects are not followed.'),
  'auth.methods[].jwt.jwks.timeoutMs': doc('A fetch is aborted after this long, in ms.', v(3000)),
  'auth.methods[].jwt.jwks.maxAgeMs': doc(
    'Keys are refreshed in the background once this old, in ms.',
    v(600_000),
  ),
  'auth.methods[].jwt.jwks.cooldownMs': doc(
    'Least time between fetches for unknown kids and retries, in ms.',
    v(30_000),
  ),
  'auth.methods[].jwt.jwks.maxKeys': doc('A key set with more keys is refused.', v(100)),
  'auth.methods[].jwt.jwks.maxBytes': doc('A larger key set is refused, in bytes.', v(524_288)),
  'auth.methods[].jwt.keys': doc(
    'Static keys: [{ key, alg, kid? }]. Give exactly one of jwks and keys.',
    NONE,
  ),
  'auth.methods[].jwt.keys[].key': doc("The key: PEM text, or a JWK (an 'oct' JWK for HS*)."),
  'auth.methods[].jwt.keys[].key.kty': doc("The JWK's key type: 'RSA', 'EC', 'OKP' or 'oct'."),
  'auth.methods[].jwt.keys[].alg': doc('The one algorithm this key verifies (pinned).'),
  'auth.methods[].jwt.keys[].kid': doc("The token header's kid that selects this key.", u('any kid')),
  'auth.methods[].jwt.algorithms': doc(
    'With jwks: the accepted algorithms (none and HS* are refused).',
    v(['RS256', 'PS256', 'ES256', 'EdDSA']),
  ),
  'auth.methods[].jwt.issuer': doc('Accepted iss (a string or a list).'),
  'auth.methods[].jwt.audience': doc(
    'Accepted aud (a string or a list); required unless dangerouslySkipAudienceCheck.',
    NONE,
  ),
  'auth.methods[].jwt.dangerouslySkipAudienceCheck': doc('Accept any audience.', v(false)),
  'auth.methods[].jwt.clockToleranceSec': doc('Leeway for exp and nbf, in seconds.', v(30)),
  'auth.methods[].jwt.requiredClaims': doc(
    "Claims that must be present besides exp, iss, aud and the profile's.",
    v([]),
  ),
  'auth.methods[].jwt.profile': doc("'rfc9068' enforces the JWT access-token profile.", v('jwt')),
  'auth.methods[].jwt.scopesClaim': doc(
    'Claim (dotted path) holding scopes (scp is read when scope is absent).',
    v('scope'),
  ),
  'auth.methods[].jwt.rolesClaim': doc(
    "Claim (dotted path) holding roles ('realm_access.roles').",
    v('roles'),
  ),
  'auth.methods[].jwt.tierClaim': doc('Claim (dotted path) holding the tier.', NONE),
  'auth.methods[].jwt.subjectClaim': doc("Claim (dotted path) holding the principal's id.", v('sub')),
  'auth.methods[].jwt.maxTokenBytes': doc('Longer tokens are refused before any parsing.', v(8192)),
  'auth.methods[].jwt.cache': doc(
    'The verified-token cache, or false to verify every request.',
    v({ max: 10_000, maxTtlMs: 300_000 }),
  ),
  'auth.methods[].jwt.cache.max': doc('Tokens kept.', v(10_000)),
  'auth.methods[].jwt.cache.maxTtlMs': doc(
    'Longest time a verified token is kept, in ms (never past its exp).',
    v(300_000),
  ),
  'auth.methods[].jwt.query': doc(
    "A query parameter that may also carry the token ('access_token'); false: none.",
    v(false),
  ),
  'auth.methods[].jwt.scheme': doc(
    "The Authorization scheme, or a list ('Token'), compared case-insensitively.",
    v('Bearer'),
  ),
  'auth.methods[].apiKey': doc(
    "API keys: inline keys (plaintext 'key', hashed at start, or 'hash'), a JSON file, or Redis. Give one of keys, file, redis.",
    NONE,
  ),
  'auth.methods[].apiKey.header': doc(
    'The request header holding the key, or false to read only query.',
    v('x-api-key'),
  ),
  'auth.methods[].apiKey.query': doc("A query parameter holding the key ('api_key'); false: none.", v(false)),
  'auth.methods[].apiKey.maxKeyBytes': doc('Longer keys are refused without being hashed.', v(256)),
  'auth.methods[].apiKey.keys': doc('Inline entries.', NONE),
  'auth.methods[].apiKey.keys[].id': doc("The principal's id."),
  'auth.methods[].apiKey.keys[].scopes': doc('Scopes the key grants.', v([])),
  'auth.methods[].apiKey.keys[].roles': doc('Roles the key grants.', v([])),
  'auth.methods[].apiKey.keys[].tier': doc('The rate-limit tier.', NONE),
  'auth.methods[].apiKey.keys[].key': doc('The key in plaintext (hashed at start). Give key or hash.', NONE),
  'auth.methods[].apiKey.keys[].hash': doc(
    "hashApiKey(key): 'sha256:' and 64 hex digits. Give key or hash.",
    NONE,
  ),
  'auth.methods[].apiKey.file': doc(
    'A JSON file holding an array of entries (relative to this file), read when the authenticator is made (followed with this file).',
    NONE,
  ),
  'auth.methods[].apiKey.redis': doc(
    'Look keys up in Redis: GET <prefix><hex digest> holds the principal as JSON.',
    NONE,
  ),
  'auth.methods[].apiKey.redis.url': doc('redis:// or rediss:// URL.'),
  'auth.methods[].apiKey.redis.prefix': doc('Prefix of the Redis keys.', v('gatehouse:apikey:')),
  'auth.methods[].apiKey.cache': doc(
    'Cache of Redis answers, or false to ask every time.',
    v({ max: 10_000, ttlMs: 60_000, negativeTtlMs: 5000 }),
  ),
  'auth.methods[].apiKey.cache.max': doc('Answers kept.', v(10_000)),
  'auth.methods[].apiKey.cache.ttlMs': doc('How long a found key is kept, in ms.', v(60_000)),
  'auth.methods[].apiKey.cache.negativeTtlMs': doc(
    'How long an unknown key is remembered as unknown, in ms.',
    v(5000),
  ),
  'auth.methods[].introspection': doc(
    'OAuth2 token introspection (RFC 7662) at endpoint, with clientId/clientSecret or headers.',
    NONE,
  ),
  'auth.methods[].introspection.endpoint': doc('The introspection URL, http or https, without credentials.'),
  'auth.methods[].introspection.clientId': doc('With clientSecret: HTTP Basic. Give both or neither.', NONE),
  'auth.methods[].introspection.clientSecret': doc('See clientId.', NONE),
  'auth.methods[].introspection.headers': doc(
    "Extra request headers ({ authorization: 'Bearer …' } instead of clientId).",
    v({}),
  ),
  'auth.methods[].introspection.tokenTypeHint': doc(
    'The token_type_hint sent, or false for none.',
    v('access_token'),
  ),
  'auth.methods[].introspection.timeoutMs': doc(
    'Each introspection is aborted after this long (503), in ms.',
    v(3000),
  ),
  'auth.methods[].introspection.audience': doc(
    "The answer's aud must contain one of these.",
    u('not checked'),
  ),
  'auth.methods[].introspection.issuer': doc("The answer's iss must equal it.", u('not checked')),
  'auth.methods[].introspection.cache': doc(
    'Answer cache, or false to ask every time.',
    v({ max: 10_000, maxTtlMs: 300_000, negativeTtlMs: 5000 }),
  ),
  'auth.methods[].introspection.cache.max': doc('Answers kept.', v(10_000)),
  'auth.methods[].introspection.cache.maxTtlMs': doc(
    'Longest time an active answer is kept, in ms (never past its exp).',
    v(300_000),
  ),
  'auth.methods[].introspection.cache.negativeTtlMs': doc(
    'How long an inactive answer is kept, in ms.',
    v(5000),
  ),
  'auth.methods[].introspection.query': doc(
    'A query parameter that may carry the token; false: none.',
    v(false),
  ),
  'auth.methods[].introspection.scopesClaim': doc('Answer member (dotted path) holding scopes.', v('scope')),
  'auth.methods[].introspection.rolesClaim': doc('Answer member (dotted path) holding roles.', NONE),
  'auth.methods[].introspection.tierClaim': doc('Answer member (dotted path) holding the tier.', NONE),
  'auth.methods[].introspection.maxTokenBytes': doc(
    'Longer tokens are refused without calling the server.',
    v(8192),
  ),
  'auth.methods[].mtls': doc(
    'The client certificate the TLS layer verified: identity from SAN URI, SAN DNS or CN.',
    NONE,
  ),
  'auth.methods[].mtls.identity': doc(
    'Where the identity is read.',
    u('first URI SAN, else first DNS SAN, else CN'),
  ),
  'auth.methods[].mtls.allowedSpiffeTrustDomains': doc(
    'The identity must be a SPIFFE ID in one of these trust domains.',
    u('any'),
  ),
  'auth.methods[].mtls.allowedIdentities': doc('The identity must be exactly one of these.', u('any')),
  'auth.methods[].mtls.dangerouslyAcceptUnauthorized': doc(
    'Accept certificates the TLS layer did not verify (tests only).',
    v(false),
  ),
  'auth.methods[].identity': doc(
    "On a service behind a Gatehouse gateway: the identity the gateway signed (its auth.forward.token), read from the header its hygiene strips, trusted only when it verifies. Rules name it 'identity'.",
    NONE,
  ),
  'auth.methods[].identity.key': doc(
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a ${file:…} reference as a file writes it
    "The verification key: the gateway's public key as PEM text (SPKI or a certificate) or a public JWK (an 'oct' JWK for HS*); ${file:…} reads it from a file. Give key or secret.",
    NONE,
  ),
  'auth.methods[].identity.key.kty': doc("The JWK's key type: 'OKP', 'EC', 'RSA' or 'oct'."),
  'auth.methods[].identity.secret': doc(
    "The shared secret for HS256/HS384/HS512 (at least 32/48/64 bytes), the gateway's forward.token.secret. Give key or secret.",
    NONE,
  ),
  'auth.methods[].identity.alg': doc('The algorithm the gateway signs with (pinned: others are refused).'),
  'auth.methods[].identity.issuer': doc("Expected iss (the gateway's forward.token.issuer).", v('gatehouse')),
  'auth.methods[].identity.audience': doc(
    "Expected aud (the gateway's forward.token.audience).",
    v('gatehouse-upstream'),
  ),
  'auth.methods[].identity.header': doc('The header the token arrives in.', v('x-gatehouse-identity')),
  'auth.methods[].identity.clockToleranceSec': doc('Leeway for exp and nbf, in seconds.', v(5)),
  'auth.methods[].identity.cache': doc(
    'Verified tokens kept until they expire, or false to verify every request.',
    v({ max: 10_000 }),
  ),
  'auth.methods[].identity.cache.max': doc('Tokens kept.', v(10_000)),
  'auth.combine': doc(
    "'first': the first method that finds a credential decides; 'all': every method must authenticate.",
    v('first'),
  ),
  'auth.rules': doc('Per-route requirements on the normalized path; the first matching rule applies.', v([])),
  'auth.rules[].path': doc("A path pattern on the normalized path ('/admin/*')."),
  'auth.rules[].httpMethods': doc('Upper-case methods the rule is for.', u('every method')),
  'auth.default': doc(
    "For requests no rule matches: 'authenticated', 'anonymous', 'deny' or a requirement.",
    v('authenticated'),
  ),
  'auth.realm': doc('realm in WWW-Authenticate challenges.', v('gatehouse')),
  'auth.forward': doc(
    'Forward the principal to services: a signed identity token and/or headers from principal fields.',
    u('nothing forwarded'),
  ),
  'auth.forward.token': doc('A signed identity token in a header of every forwarded request.', NONE),
  'auth.forward.token.key': doc('The private signing key: PEM (PKCS#8) or a private JWK.', NONE),
  'auth.forward.token.secret': doc('The shared secret for HS256/HS384/HS512, at least 32 bytes.', NONE),
  'auth.forward.token.alg': doc('The signing algorithm; the verifier pins the same.'),
  'auth.forward.token.kid': doc('Written in the token header.', NONE),
  'auth.forward.token.header': doc('The header the token travels in.', v('x-gatehouse-identity')),
  'auth.forward.token.ttlSec': doc('Lifetime, in seconds (never past the credential it came from).', v(60)),
  'auth.forward.token.issuer': doc('iss.', v('gatehouse')),
  'auth.forward.token.audience': doc('aud, shared by the services.', v('gatehouse-upstream')),
  'auth.forward.headers': doc(
    "Headers set from principal fields: name → 'id', 'method', 'scopes', 'roles', 'tier', 'clientId' or 'claims.<path>'.",
    NONE,
  ),
  '~requirement.anonymous': doc('No credential is needed (a presented one is still verified).', v(false)),
  '~requirement.deny': doc('Answer 403 to everyone, before authentication.', v(false)),
  '~requirement.scopes': doc('Scopes the principal must all hold.', NONE),
  '~requirement.roles': doc('Roles of which the principal must hold at least one.', NONE),
  '~requirement.methods': doc('Only these authentication methods (by name) count.', u('every method')),

  // ---------------------------------------------------------------------------------------------
  // rate limits (@gatehousejs/rate-limit); rateLimit[] (several limiters) reads the same
  'rateLimit.name': doc('Names the counters and metrics; each limiter needs its own.', v('default')),
  'rateLimit.limits': doc('Windows applied to every request. Give this or tiers.', NONE),
  'rateLimit.tiers': doc('Windows per tier: tier → windows ([] means none for that tier).', NONE),
  'rateLimit.defaultTier': doc(
    'The tier of requests whose tier is missing or unknown (required with tiers).',
    NONE,
  ),
  'rateLimit.key': doc(
    "What a counter is per: 'ip', 'principal', 'api-key', 'route', { header }, or a list of them.",
    v('principal'),
  ),
  'rateLimit.key.header': doc("A header's value as the key (hashed over 128 characters)."),
  'rateLimit.ipv6Prefix': doc("IPv6 grouping for 'ip'.", v(64)),
  'rateLimit.apiKeyHeader': doc("The header 'api-key' reads.", v('x-api-key')),
  'rateLimit.cost': doc('Points per request (0 spends nothing).', v(1)),
  'rateLimit.exempt': doc('Requests not counted: any match exempts.', NONE),
  'rateLimit.exempt.ips': doc(
    "Addresses, CIDR ranges, 'loopback', 'private', 'linklocal', 'uniquelocal'.",
    v([]),
  ),
  'rateLimit.exempt.principals': doc('Principal ids.', v([])),
  'rateLimit.exempt.tiers': doc('Tiers.', v([])),
  'rateLimit.routes': doc(
    'Per-route policies: the first rule matching the normalized path (and method) replaces the top-level one; what it omits is inherited.',
    v([]),
  ),
  'rateLimit.routes[].path': doc("A path pattern on the normalized path ('/login')."),
  'rateLimit.routes[].methods': doc('Upper-case methods the rule is for.', u('every method')),
  'rateLimit.routes[].limits': doc("The route's windows.", u('the top-level limits')),
  'rateLimit.routes[].tiers': doc("The route's windows per tier.", u('the top-level tiers')),
  'rateLimit.routes[].cost': doc('Points per request on the route.', u('the top-level cost')),
  'rateLimit.routes[].exempt': doc('true: the route is not limited.', v(false)),
  'rateLimit.store': doc(
    "Where counters live: 'memory', { memory: { maxKeys } } or { redis: { url, instances, insurance } } shared by a fleet.",
    v('memory'),
  ),
  'rateLimit.store.memory': doc('Counters in this process.'),
  'rateLimit.store.memory.maxKeys': doc(
    'Live keys per counter; beyond, the oldest windows go first.',
    v(1_000_000),
  ),
  'rateLimit.store.memory.sweepIntervalMs': doc('How often expired windows are removed, in ms.', v(30_000)),
  'rateLimit.store.redis': doc('Counters in Redis, shared by every gateway using it.'),
  'rateLimit.store.redis.timeoutMs': doc('A round trip longer than this counts as a failure, in ms.', v(100)),
  'rateLimit.store.redis.insurance': doc('Count in-process while Redis fails.', v(true)),
  'rateLimit.store.redis.instances': doc(
    'Processes sharing the Redis: each insurance limiter admits points / instances.',
    v(1),
  ),
  'rateLimit.failure': doc(
    "With a failed store and no insurance: 'open' admits, 'closed' answers 503.",
    v('open'),
  ),
  'rateLimit.headers': doc(
    "Response headers: 'ietf' (RateLimit, RateLimit-Policy), 'legacy' (X-RateLimit-*), 'both' or 'none'.",
    v('ietf'),
  ),
  'rateLimit.concurrency': doc('Requests in flight per key (429) and in total (503).', OFF),
  'rateLimit.concurrency.perKey': doc('In flight per key.', u('unlimited')),
  'rateLimit.concurrency.global': doc('In flight in all.', u('unlimited')),
  'rateLimit.shed': doc('Load shedding on event-loop delay: 503 GH_OVERLOADED while it is exceeded.', OFF),
  'rateLimit.shed.maxEventLoopDelayMs': doc('The delay beyond which new requests are refused, in ms.'),
  'rateLimit.shed.sampleIntervalMs': doc('How often the delay is sampled, in ms.', v(500)),
  'rateLimit.shed.retryAfter': doc('Retry-After of a refusal, in seconds.', v(1)),
  'rateLimit.prefix': doc('Prefix of every counter key.', v('gatehouse:rl')),
  '~window.name': doc(
    'Names the window in headers, problems and metrics (a token).',
    u("its duration ('60s') or period"),
  ),
  '~window.points': doc('Points (requests, at cost 1) the window admits.'),
  '~window.duration': doc(
    "A rolling window: seconds, or a duration ('1m', '1h'). Give duration or per.",
    NONE,
  ),
  '~window.per': doc(
    "A calendar quota reset at the start of each UTC 'hour', 'day', ISO 'week' or 'month'.",
    NONE,
  ),
  '~redis.url': doc(
    'redis:// or rediss:// URL; Gatehouse makes the client and closes it.',
    u('none: needed in a file (a client object is code only)'),
  ),

  // ---------------------------------------------------------------------------------------------
  // deadline, versioning, OpenAPI
  'deadline.header': doc('The header read (whole milliseconds).', v('x-deadline-ms')),
  'deadline.maxMs': doc('The longest deadline accepted; longer ones are cut to it, in ms.', v(60_000)),
  'versioning.versions': doc(
    "The versions served: '1', 2, '2026-01-15', or { version, deprecation?, sunset?, links? }.",
  ),
  'versioning.versions[].version': doc('The version.'),
  'versioning.versions[].deprecation': doc(
    "When it is deprecated: 'YYYY-MM-DD' or an ISO 8601 date-time.",
    NONE,
  ),
  'versioning.versions[].sunset': doc('When it stops being served (Sunset).', NONE),
  'versioning.versions[].links': doc('Link relations sent with Deprecation and Sunset.', NONE),
  'versioning.versions[].links.deprecation': doc('The deprecation notice (URL).', NONE),
  'versioning.versions[].links.sunset': doc('The sunset notice (URL).', NONE),
  'versioning.sources': doc(
    "Where the version is read, in order: 'path', 'header', 'query', 'media-type' or { from, … }.",
    v(['header']),
  ),
  'versioning.sources[].from': doc('The kind of source.'),
  'versioning.sources[].index': doc('path: the segment of the normalized path.', v(0)),
  'versioning.sources[].prefix': doc("path: what precedes the version in the segment ('v2').", v('v')),
  'versioning.sources[].strip': doc('path: remove the segment before routing.', v(false)),
  'versioning.sources[].name': doc('header, query: its name.', v('api-version')),
  'versioning.sources[].in': doc('media-type: the headers read.', v(['accept', 'content-type'])),
  'versioning.sources[].parameter': doc(
    'media-type: the parameter holding the version, or false.',
    v('version'),
  ),
  'versioning.sources[].vendor': doc('media-type: read vnd.<vendor>.v<version> subtypes too.', NONE),
  'versioning.sources[].types': doc('media-type: the media types read.', u('every media type')),
  'versioning.default': doc(
    "The version of a request that names none: a declared version or 'latest'.",
    NONE,
  ),
  'versioning.required': doc('Refuse a request that names no version (not with default).', v(false)),
  'versioning.neutral': doc("Path patterns without versions ('/health', '/docs/*').", v([])),
  'versioning.afterSunset': doc("'refuse': 410 after a version's sunset.", v('serve')),
  'versioning.headers': doc('false, or which response headers are sent.', v(true)),
  'versioning.headers.report': doc('The supported and deprecated versions.', v(true)),
  'versioning.headers.lifecycle': doc('Deprecation, Sunset and Link.', v(true)),
  'versioning.headers.vary': doc('Vary on the header read.', v(true)),
  'openapi.document': doc(
    'The OpenAPI document: a path relative to this file (followed with it), a file: URL, or the document.',
  ),
  'openapi.name': doc('Names the validator in events, metrics and reports.', v('openapi')),
  'openapi.basePath': doc(
    "Where the document's paths are mounted: one prefix or several ('' = the root).",
    u('the paths of servers[].url, or ""'),
  ),
  'openapi.requests': doc('Request validation; false turns it off.', v({})),
  'openapi.requests.unknownPath': doc(
    "A path not in the document: 'pass' to the application, or 'reject' with 404.",
    v('pass'),
  ),
  'openapi.requests.unknownMethod': doc(
    "A method not documented on a known path: 405 with Allow ('reject'), or 'pass'.",
    v('reject'),
  ),
  'openapi.requests.unknownQuery': doc(
    "An undeclared query parameter: an issue (400), or 'ignore'.",
    v('reject'),
  ),
  'openapi.requests.maxBodyBytes': doc('The largest body read and validated; larger is 413.', v(1_048_576)),
  'openapi.requests.body': doc(
    "A validated body: put back for the app's parser ('replay'), or kept as req.body ('parsed').",
    v('replay'),
  ),
  'openapi.requests.maxParts': doc('The most parts of a multipart body.', v(100)),
  'openapi.requests.maxErrors': doc('The most issues in one 400 answer.', v(10)),
  'openapi.responses': doc('Response validation.', EACH),
  'openapi.responses.mode': doc(
    "'off', 'report' (checked after sending) or 'enforce' (held and checked).",
    v('off'),
  ),
  'openapi.responses.sampleRate': doc('Share of responses checked.', v(1)),
  'openapi.responses.maxBodyBytes': doc(
    "The largest response body checked; also the contract guard's cap.",
    v(1_048_576),
  ),
  'openapi.contractGuard': doc("Check migrated routes' service answers against the document.", v(true)),
  'openapi.mock': doc(
    "Answer from the document's examples: 'unhandled' (what the app did not answer) or 'always'.",
    v('off'),
  ),
  'openapi.reference': doc('A reference page for the document; true for the defaults.', v(false)),
  'openapi.reference.path': doc('Where the page is.', v('/reference')),
  'openapi.reference.renderer': doc('The renderer.', v('swagger-ui')),
  'openapi.reference.title': doc("The page's title.", u("the document's info.title")),

  // ---------------------------------------------------------------------------------------------
  // compositions and the cache (@gatehousejs/aggregate)
  'aggregate[].name': doc('Names the composition in errors.'),
  'aggregate[].path': doc(
    "Answer requests matching this path pattern ('/screens/orders/:id').",
    u('every request reaching it'),
  ),
  'aggregate[].methods': doc('Methods answered; others pass on.'),
  'aggregate[].calls': doc('Named calls (letters, digits, _, -), run as a graph of their dependencies.'),
  'aggregate[].calls.*.service': doc('The service called (from services).'),
  'aggregate[].calls.*.method': doc('The method; only GETs are coalesced and cached.'),
  'aggregate[].calls.*.path': doc("Path template ('/orders/{/params/id}'), no ? or #."),
  'aggregate[].calls.*.query': doc('Query parameters: name → template.', NONE),
  'aggregate[].calls.*.headers': doc('Headers: name → template.', NONE),
  'aggregate[].calls.*.forward': doc("Incoming headers passed on as they are ('authorization')."),
  'aggregate[].calls.*.body': doc('A JSON pointer: that value sent as a JSON body.', NONE),
  'aggregate[].calls.*.dependsOn': doc('Calls to wait for besides those referenced.'),
  'aggregate[].calls.*.policy': doc("'required' (its failure fails the answer) or 'optional'."),
  'aggregate[].calls.*.fallback': doc(
    'The result of an optional call that failed, or of a skipped call.',
    NONE,
  ),
  'aggregate[].calls.*.when': doc(
    "A pointer: the call runs when its value is present and not null, false or ''.",
    u('always'),
  ),
  'aggregate[].calls.*.forEach': doc(
    'A pointer to an array: one call per element (/item in templates).',
    NONE,
  ),
  'aggregate[].calls.*.concurrency': doc('Fan-out calls in flight at once.'),
  'aggregate[].calls.*.maxItems': doc('Most elements of a fan-out or batch; more fail the call.'),
  'aggregate[].calls.*.batch': doc(
    'One call for every element: their values joined in one query parameter.',
    NONE,
  ),
  'aggregate[].calls.*.batch.query': doc('The query parameter.'),
  'aggregate[].calls.*.batch.value': doc("A pointer into each element ('' = the element)."),
  'aggregate[].calls.*.batch.separator': doc("Between values ('repeat': the parameter repeated)."),
  'aggregate[].calls.*.timeoutMs': doc(
    "This call's own deadline, its body included, in ms.",
    u('the time left'),
  ),
  'aggregate[].calls.*.maxBodyBytes': doc('Largest answer read.', u("the composition's")),
  'aggregate[].calls.*.extract': doc(
    "A pointer: this part of the answer is the result ('/data').",
    u('the whole answer'),
  ),
  'aggregate[].calls.*.pick': doc('Pointers to keep (in each element of an array result).', u('everything')),
  'aggregate[].calls.*.omit': doc('Pointers to remove.', NONE),
  'aggregate[].calls.*.rename': doc('Pointers renamed: from → to.', NONE),
  'aggregate[].calls.*.flatten': doc("A fan-out's array answers concatenated."),
  'aggregate[].calls.*.as': doc('Key of the result in a grouped body.', u("the call's name")),
  'aggregate[].calls.*.include': doc('false: the result is only for other calls.'),
  'aggregate[].calls.*.cache': doc('Serve this GET from the response cache.', u("the composition's cache")),
  'aggregate[].timeoutMs': doc("The whole composition, from the request's arrival, in ms."),
  'aggregate[].maxBodyBytes': doc('Largest answer read from a call (unless the call sets its own).'),
  'aggregate[].combine': doc(
    "'group' (each result under its name) or 'merge' (object results merged in call order).",
  ),
  'aggregate[].partialKey': doc('Key of the partial-answer report in an object body; false for none.'),
  'aggregate[].cacheControl': doc('Cache-Control of complete answers (partial ones are always no-store).'),
  'aggregate[].coalesce': doc('Share identical concurrent upstream GETs across requests.'),
  'aggregate[].cache': doc("Serve every GET call from the response cache (a call's own cache wins)."),
  'cache.store': doc("'memory' (this process) or 'redis' (shared)."),
  'cache.memory': doc('The in-process store.'),
  'cache.memory.maxEntries': doc('Most entries kept (least recently used go first).'),
  'cache.memory.maxBytes': doc('Most bytes kept (bodies and headers).'),
  'cache.redis': doc("The Redis store (store: 'redis').", NONE),
  'cache.redis.prefix': doc('Prefix of every key.'),
  'cache.redis.timeoutMs': doc(
    'Longest wait for one command, in ms; past it the cache goes on without Redis.',
  ),
  'cache.maxBodyBytes': doc('Larger answers pass through uncached.'),
  'cache.coalesce': doc('Identical concurrent GETs share one upstream call.'),
  'cache.honorRequestDirectives': doc("Honour a client's Cache-Control: no-cache / max-age."),
  'cache.name': doc("This cache's name in Cache-Status."),

  // ---------------------------------------------------------------------------------------------
  // admin
  'admin.access': doc(
    'Who may use the admin endpoints besides /health and /ready.',
    u('nobody (403 GH_ADMIN_FORBIDDEN)'),
  ),
  'admin.access.write': doc('Who may write.', u('peers, ports and require above (never dangerouslyPublic)')),
  'admin.access.require': doc('A requirement on the principal gw.auth() finds.', NONE),
  'admin.access.write.require': doc('A requirement writers must meet.', NONE),
  'admin.dashboard.path': doc(
    "Where the page is, below the admin prefix ('/seg[/seg…]', lower case).",
    v('/dashboard'),
  ),
  'admin.dashboard.title': doc("The page's title.", v('Gatehouse migration')),
  'admin.dashboard.refreshMs': doc(
    'How often open pages get fresh numbers (only when something changed), in ms.',
    v(1000),
  ),
  'admin.dashboard.sampleMs': doc("How often a point of each route's charts is taken, in ms.", v(5000)),
  'admin.dashboard.historyPoints': doc('Points kept per route.', v(360)),
  'admin.dashboard.maxClients': doc('Pages open at once; one more gets 503 GH_DASHBOARD_BUSY.', v(16)),
};

/** The entries looked up so far (every one should be, once the JSON Schema is made). */
const used = new Set<string>();

/** The entry for a key's path (`services.*.retry`), through ALIASES; undefined when there is none. */
export function keyDoc(path: string): KeyDoc | undefined {
  let current = path;
  for (let i = 0; i < 6; i++) {
    const found = KEY_DOCS[current];
    if (found !== undefined) {
      used.add(current);
      return found;
    }
    const rule = ALIASES.find(([pattern]) => pattern.test(current));
    if (rule === undefined) return undefined;
    const next = current.replace(rule[0], rule[1]);
    if (next === current) return undefined;
    current = next;
  }
  return undefined;
}

/** Entries no key of the schema led to (stale: a test fails on them). */
export function unusedKeyDocs(): string[] {
  return Object.keys(KEY_DOCS).filter((key) => !used.has(key));
}
