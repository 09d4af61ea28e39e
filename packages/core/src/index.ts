export {
  type AdminAccess,
  type AdminEndpoint,
  type AdminEndpointEntry,
  type AdminEndpointOptions,
  type AdminOptions,
  type AdminPolicy,
  type AdminReveal,
  type AdminTarget,
  type AdminView,
  type AdminWriteAccess,
  admin,
  createAdminPolicy,
} from './admin.js';
export {
  createAddressMatcher,
  createProxyTrust,
  DEFAULT_PROXY_TRUST,
  foldMappedIPv4,
  type ProxyTrust,
  type ProxyTrustOptions,
} from './client-ip.js';
export * from './config/index.js';
export { didYouMean, suggest } from './config/suggest.js';
export {
  type DependencyInfo,
  DependencyMonitor,
  type DependencyReporter,
  type DependencyState,
  dependencyName,
} from './dependency.js';
export {
  AdminForbidden,
  AppError,
  ConfigInvalid,
  DependencyRecovered,
  DependencyUnavailable,
  defineError,
  type ErrorOptions,
  type ErrorSpec,
  errorCodes,
  GatehouseError,
  type GatehouseErrorClass,
  InternalError,
  isGatehouseError,
  MethodNotAllowed,
  NotFound,
  NotReady,
  PathEncodedSlash,
  PathFragment,
  PathInvalid,
  PathInvalidEncoding,
  PathNotCanonical,
  PathNulByte,
  PathParams,
  RequestHeadersTooLarge,
  RequestHostInvalid,
  RequestMalformed,
  RequestTimeout,
  RequestTooManyHeaders,
  statusText,
} from './errors.js';
export { errorChannel, lifecycleChannel, requestFinishChannel, requestStartChannel } from './events.js';
export {
  type Annotation,
  Exchange,
  type ExchangeRuntime,
  type ExchangeState,
  ensureExchange,
  exchangeOf,
  type FrameworkInfo,
  INTERNAL_REQUEST_HEADER,
  type Scope,
} from './exchange.js';
export {
  type CloseOptions,
  defaultGateway,
  Gateway,
  type GatewayLogger,
  type GatewayOptions,
  type GatewayState,
  gatewayOptionsSchema,
} from './gateway.js';
export {
  createHeaderHygiene,
  DEFAULT_STRIPPED_HEADERS,
  type HeaderHygiene,
  type HeaderHygieneOptions,
  HOP_BY_HOP,
  isHeaderName,
  isSafeHeaderValue,
} from './headers.js';
export {
  compose,
  HANDLED,
  isThenable,
  type Middleware,
  type Outcome,
  type Reply,
  type RequestResult,
} from './middleware.js';
export {
  loadPeer,
  missingPackageOf,
  missingPeer,
  type PeerRequest,
  peerInstalled,
  providePeer,
} from './optional-peer.js';
export {
  type CrossCheck,
  type CrossCheckReport,
  extendOptions,
  functionOption,
  httpMethodsOption,
  isCodeOnlyOption,
  nonEmptyString,
  type OptionSchema,
  objectOption,
  type ParseOptionsSettings,
  Problems,
  parseOptions,
  pathPatternOption,
  pathPatternProblem,
  positiveInt,
  type TypesAgree,
  unknownKeys,
  withCrossCheck,
} from './options.js';
export { createPathMatcher, DEFAULT_PATH_POLICY, normalizePath, type PathPolicy } from './path.js';
export {
  clearBodyHeaders,
  type ProblemDocument,
  type ProblemOptions,
  type ProblemRenderer,
  type RenderedBody,
  type RenderedResponse,
  type RenderProblemOptions,
  renderProblem,
  renderReply,
  toGatehouseError,
  writeRendered,
  writeRenderedToSocket,
} from './problem.js';
export { type RequestIdOptions, requestId, requestIdOptionsSchema } from './request-id.js';
export {
  DEFAULT_REQUEST_LIMITS,
  hardenServer,
  type RequestLimits,
  requestRejection,
  type ServerLimits,
} from './request-limits.js';
export { enter, problem, type Step, unanswered } from './run.js';
export { canonicalPath } from './target.js';
