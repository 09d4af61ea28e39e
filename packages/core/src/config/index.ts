// Gatehouse configuration: the typed object API, the same configuration from YAML or JSON files,
// validated once at start-up with every problem reported, and the JSON Schema for editors.

export { type FileJsonSchemaOptions, fileJsonSchema } from './json-schema.js';
export {
  type ConfigSourceText,
  loadConfigFile,
  parseConfigText,
  readConfigText,
  resolveConfig,
} from './load.js';
export type {
  AdminConfig,
  ClientIpConfig,
  ClientIpHeader,
  EndpointsServiceConfig,
  GatewayConfig,
  HeadersConfig,
  PathsConfig,
  ProblemsConfig,
  RequestIdConfig,
  ResolvedConfig,
  ResolvedRoute,
  ResolvedService,
  RouteConfig,
  ServiceConfig,
  ShutdownConfig,
  TrustedProxies,
  UrlServiceConfig,
} from './schema.js';
export { configJsonSchema, configSchema, serviceSchema } from './schema.js';
export {
  ConfigError,
  type ConfigProblem,
  type ConfigSourceInfo,
  type Finding as ConfigFinding,
  formatPath,
  formatProblem,
  type Locate as ConfigLocate,
  type Segment as ConfigPathSegment,
} from './validate.js';
export { describeValue, quote } from './words.js';
