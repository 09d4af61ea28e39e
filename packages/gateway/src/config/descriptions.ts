// Hover text for keys whose package schema carries no description, by path (`services.*.retry`,
// `routes[].mode`): the JSON Schema and the configuration reference (docs/configuration.md) use it.
// The capability READMEs stay the full account of each option.
export const DESCRIPTIONS: Readonly<Record<string, string>> = {
  // services
  'services.*.url':
    'Base URL of the one instance, http or https, without credentials. Give one of url, endpoints, dns, etcd.',
  'services.*.endpoints': 'Base URLs of interchangeable instances (at least one).',
  'services.*.dns':
    'Find the instances in DNS (SRV, A, AAAA), followed as records change (see @gatehousejs/discovery dnsResolver).',
  'services.*.etcd':
    'Find the instances under an etcd prefix, watched (see @gatehousejs/discovery etcdResolver).',
  'services.*.balancer': "How an instance is chosen: 'p2c' (default), 'round-robin', 'ewma' or 'ring-hash'.",
  'services.*.zone': "This gateway's zone: instances in it are preferred.",
  'services.*.connections': 'Connections kept per instance. Default 64.',
  'services.*.timeouts': 'connectMs (default 1000), perTryMs (5000), totalMs (15000), bodyMs (30000).',
  'services.*.retry':
    'maxAttempts (default 3), statuses (502, 503, 504), nonIdempotent (false), backoff, budget.',
  'services.*.breaker':
    'Circuit breakers per endpoint (on by default) and per service (off); false turns them off.',
  'services.*.bulkhead': 'At most maxConcurrent calls at once, maxPending waiting.',
  'services.*.hedge': 'A second try after delayMs for idempotent calls, for at most maxPercent of them.',
  'services.*.outlier':
    'Passive outlier ejection: consecutiveFailures (default 5), baseEjectionMs, maxEjectionMs, maxEjectionPercent; false: off.',
  'services.*.healthCheck': 'Active health checks of every instance on path.',
  'services.*.tls':
    'Client TLS (mTLS): ca, cert, key as PEM text or files (watched), servername, the identity expected.',
  'services.*.deadlineHeader':
    'The header the remaining deadline is sent in (default x-deadline-ms); false: not sent.',
  // routes
  'routes[].name':
    'Names the route in reports, metrics, events and the admin API. Default: its path (with methods: "GET /x").',
  'routes[].path':
    "A path pattern on the normalized path ('/x', '/x/*', '/x/:id'), or a list of them: a group that moves as one.",
  'routes[].methods': 'Upper-case methods. Default: every method.',
  'routes[].host': 'Host(s) the request must be for; *.example.com needs a label. Default: every host.',
  'routes[].headers': 'Headers that must be present (true) or equal a value.',
  'routes[].query': 'Query parameters that must be present (true) or equal a value.',
  'routes[].version': "API versions ('2', '2+') the route is for (needs versioning).",
  'routes[].service':
    'The service (from services) the route sends requests to. Required unless the mode is local.',
  'routes[].mode': 'local, shadow, split, fallback or remote. Default: remote with a service, else local.',
  'routes[].weight': 'split: percent of callers (0–100) sent to the service. Default 0.',
  'routes[].rearm': 'Change it to re-arm the route after a gate moved it (the same as gatehouse rearm).',
  'routes[].sticky':
    "What keeps a caller on one side of a split: 'principal' (default), 'ip', 'none', { cookie } or { header }.",
  'routes[].rewrite':
    'Path prefixes towards the service: { from, to }; Location and cookie Path are mapped back.',
  'routes[].requestHeaders': 'Headers set or removed on the forwarded request, after hygiene.',
  'routes[].responseHeaders': "Headers set or removed on the service's response.",
  'routes[].timeoutMs': 'One deadline for the whole upstream call, every try included. Default 10000.',
  'routes[].bodyTimeoutMs':
    "Longest pause between two chunks of the service's response. Default: the client's timeouts.bodyMs.",
  'routes[].internalHosts':
    'Hosts that, in Location or cookie Domain, mean the service itself and are rewritten to the public host.',
  'routes[].shadow':
    'Limits on shadow copies: maxConcurrent (16), maxBodyBytes (1 MiB), sampleRate (1), noiseSampleRate (0.1), methods.',
  'routes[].diff':
    'How shadow answers are compared: headers, ignore, redact, keep (50), noiseThreshold (1), maxDifferencesPerResponse (20).',
  'routes[].fallback':
    'When fallback falls back (on: connect, timeout, circuit, 5xx) and how much body it keeps to replay (1 MiB).',
  'routes[].gates':
    'Thresholds that move the route back a stage: windowMs (60000), minRequests (20), maxDiffRate, maxErrorRateDelta, maxErrorRate, maxP99DeltaMs, maxContractViolationRate.',
  'routes[].websocket':
    'Pass Upgrade (WebSocket) requests through when the route sends the request to the service. Default false.',
  'routes[].cache': "Serve the route's GETs through the response cache. Default false.",
  'routing.override':
    "The per-request override header for testers ({ header: 'gatehouse-route', scopes: ['gatehouse:route-override'] }); false turns it off.",
  'routing.gateIntervalMs': 'How often gates are evaluated, in ms. Default 1000.',
  // auth
  'auth.methods': 'Authentication methods, tried in order (see combine).',
  'auth.methods[].jwt':
    'JWTs verified against a JWKS endpoint or static keys (give one of jwks, keys); issuer required, audience unless dangerouslySkipAudienceCheck.',
  'auth.methods[].apiKey':
    "API keys: inline keys (plaintext 'key', hashed at start, or 'hash'), a JSON file, or Redis.",
  'auth.methods[].introspection':
    'OAuth2 token introspection (RFC 7662) at endpoint, with clientId/clientSecret or headers.',
  'auth.methods[].mtls':
    'The client certificate the TLS layer verified: identity from SAN URI, SAN DNS or CN.',
  'auth.combine':
    "'first' (default): the first method that finds a credential decides; 'all': every method must authenticate.",
  'auth.rules': 'Per-route requirements on the normalized path; the first matching rule applies.',
  'auth.default':
    "For requests no rule matches: 'authenticated' (default), 'anonymous', 'deny' or a requirement.",
  'auth.realm': "realm in WWW-Authenticate challenges. Default 'gatehouse'.",
  'auth.forward':
    'Forward the principal to services: a signed identity token (token: key or secret, alg) and/or headers from principal fields.',
  // rate limits
  'rateLimit.store':
    "Where counters live: 'memory' (default), { memory: { maxKeys } } or { redis: { url, instances, insurance } } shared by a fleet.",
  accessLog: 'One JSON line per request; true for the defaults (stdout).',
  deadline: 'Honour an incoming x-deadline-ms; true for the defaults.',
};
