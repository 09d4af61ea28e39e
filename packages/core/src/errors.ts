// Errors are data: a status, a stable code, whether the message may be shown to the client, extra
// response headers, and problem-details extensions. The adapters render them as RFC 9457 problem+json.

const kBrand = Symbol.for('gatehouse.error');

/** What every Gatehouse error code is registered with; docs/errors.md lists each one. */
export interface ErrorSpec {
  /** Stable identifier, `GH_` + upper snake case. Never reused for another meaning. */
  readonly code: string;
  /** HTTP status the error is rendered with; 0 for errors that never reach a client (configuration). */
  readonly status: number;
  /** Short, human-readable summary; the same for every occurrence (RFC 9457 `title`). */
  readonly title: string;
  /** Whether `detail` is shown to clients. Defaults to true below 500, false from 500 up. */
  readonly expose: boolean;
}

/** Per-occurrence options for a Gatehouse error. */
export interface ErrorOptions {
  /** Response headers sent with the problem, e.g. `Retry-After` or `WWW-Authenticate`. */
  headers?: Record<string, string>;
  /** Extra problem-details members (RFC 9457 §3.2), rendered only when the error is exposed. */
  extensions?: Record<string, unknown>;
  /** The underlying error; kept for logs, never rendered. */
  cause?: unknown;
}

const registry = new Map<string, ErrorSpec>();

/** Every error code defined so far (core and every loaded capability package). */
export function errorCodes(): ReadonlyMap<string, ErrorSpec> {
  return registry;
}

/**
 * The base class of every error Gatehouse renders. Prefer a class made by {@link defineError};
 * construct this directly only for codes you register yourself.
 */
export class GatehouseError extends Error {
  declare readonly [kBrand]: true;
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly expose: boolean;
  readonly headers: Record<string, string> | undefined;
  readonly extensions: Record<string, unknown> | undefined;

  constructor(spec: ErrorSpec, detail?: string, options?: ErrorOptions) {
    super(detail ?? spec.title, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatehouseError';
    this.code = spec.code;
    this.status = spec.status;
    this.title = spec.title;
    this.expose = spec.expose;
    this.headers = options?.headers;
    this.extensions = options?.extensions;
  }

  /** The client-facing explanation of this occurrence (the message when exposed). */
  get detail(): string {
    return this.expose ? this.message : this.title;
  }
}
Object.defineProperty(GatehouseError.prototype, kBrand, { value: true });

/** True for any Gatehouse error, including ones from another copy of this package. */
export function isGatehouseError(value: unknown): value is GatehouseError {
  return typeof value === 'object' && value !== null && (value as { [kBrand]?: unknown })[kBrand] === true;
}

/** A constructor made by {@link defineError}; `spec` is its registered code. */
export interface GatehouseErrorClass {
  new (detail?: string, options?: ErrorOptions): GatehouseError;
  readonly spec: ErrorSpec;
}

/**
 * Registers an error code and returns its class.
 *
 * @example
 *   export const RateLimited = defineError('GH_RATE_LIMITED', 429, 'Too many requests');
 *   throw new RateLimited('Limit of 100 per minute reached', { headers: { 'retry-after': '12' } });
 */
export function defineError(
  code: string,
  status: number,
  title: string,
  options?: { expose?: boolean },
): GatehouseErrorClass {
  if (!/^GH_[A-Z0-9]+(?:_[A-Z0-9]+)*$/.test(code)) throw new TypeError(`invalid error code '${code}'`);
  const known = registry.get(code);
  if (known && (known.status !== status || known.title !== title)) {
    throw new TypeError(`error code '${code}' is already defined with another meaning`);
  }
  const spec: ErrorSpec = Object.freeze({
    code,
    status,
    title,
    expose: options?.expose ?? (status > 0 && status < 500),
  });
  registry.set(code, spec);
  const named = {
    [code]: class extends GatehouseError {
      static readonly spec = spec;
      constructor(detail?: string, errorOptions?: ErrorOptions) {
        super(spec, detail, errorOptions);
      }
    },
  };
  return named[code] as GatehouseErrorClass;
}

// Core's own codes. Capability packages define theirs beside their code; docs/errors.md lists all.
export const InternalError = defineError('GH_INTERNAL', 500, 'Internal server error');
export const NotFound = defineError('GH_NOT_FOUND', 404, 'Not found');
export const AppError = defineError('GH_APP_ERROR', 400, 'Request rejected by the application');
export const PathInvalid = defineError('GH_PATH_INVALID', 400, 'Invalid request path');
export const PathInvalidEncoding = defineError(
  'GH_PATH_INVALID_ENCODING',
  400,
  'Invalid percent-encoding in request path',
);
export const PathNulByte = defineError('GH_PATH_NUL_BYTE', 400, 'NUL byte in request path');
export const PathEncodedSlash = defineError(
  'GH_PATH_ENCODED_SLASH',
  400,
  'Encoded slash or backslash in request path',
);
export const PathParams = defineError('GH_PATH_PARAMS', 400, 'Path parameters (;) are not accepted');
export const PathFragment = defineError('GH_PATH_FRAGMENT', 400, 'Fragment (#) in request target');
export const PathNotCanonical = defineError(
  'GH_PATH_NOT_CANONICAL',
  400,
  'Request path is not in canonical form',
);
export const RequestMalformed = defineError('GH_REQUEST_MALFORMED', 400, 'Malformed HTTP request');
export const RequestHeadersTooLarge = defineError(
  'GH_REQUEST_HEADERS_TOO_LARGE',
  431,
  'Request header fields too large',
);
export const RequestTimeout = defineError('GH_REQUEST_TIMEOUT', 408, 'Request timeout');
export const RequestTooManyHeaders = defineError(
  'GH_REQUEST_TOO_MANY_HEADERS',
  431,
  'Too many request header fields',
);
export const RequestHostInvalid = defineError('GH_REQUEST_HOST_INVALID', 400, 'Invalid Host header');
export const AdminForbidden = defineError('GH_ADMIN_FORBIDDEN', 403, 'Admin endpoint not accessible');
/** Never sent to a client: the message reported when a dependency (JWKS, Redis, etcd, DNS) goes down. */
export const DependencyUnavailable = defineError(
  'GH_DEPENDENCY_UNAVAILABLE',
  0,
  'A dependency is unavailable',
  {
    expose: true,
  },
);
/** Never sent to a client: the message reported when a dependency that was down answers again. */
export const DependencyRecovered = defineError(
  'GH_DEPENDENCY_RECOVERED',
  0,
  'A dependency is available again',
  {
    expose: true,
  },
);
export const MethodNotAllowed = defineError('GH_METHOD_NOT_ALLOWED', 405, 'Method not allowed');
export const NotReady = defineError('GH_NOT_READY', 503, 'Service not ready', { expose: true });
export const ConfigInvalid = defineError('GH_CONFIG_INVALID', 0, 'Invalid Gatehouse configuration', {
  expose: true,
});

/** Reason phrases for the statuses Gatehouse renders, used as titles for application errors. */
export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? (status >= 500 ? 'Server error' : 'Client error');
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  418: "I'm a teapot",
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  423: 'Locked',
  424: 'Failed Dependency',
  425: 'Too Early',
  426: 'Upgrade Required',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};
