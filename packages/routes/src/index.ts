export { addRoutesAdmin } from './admin.js';
export { hasBody, type PeekedBody, peekBody, restoreBody } from './body.js';
export {
  type ComparisonCounts,
  type DiffReport,
  type MigrationReport,
  type ModeChange,
  type OverrideOptions,
  observeMigration,
  type ReasonCounts,
  type Rejection,
  Routes,
  type RoutesContext,
  type RoutesOptions,
  type SideReport,
} from './controller.js';
export {
  canonicalMediaType,
  createDiffer,
  DEFAULT_DIFF_HEADERS,
  type Differ,
  type Difference,
  type DiffOptions,
  type DiffRecord,
  type DiffStats,
  type ResponseSample,
} from './diff.js';
export { RouteBodyConsumed } from './errors.js';
export {
  type ContractCounts,
  type ContractReport,
  observeRemoteResponses,
  type RemoteResponse,
  type RemoteResponseObserver,
  remoteObservers,
} from './observe.js';
export {
  diffOptionsSchema,
  etcdSourceOptionsSchema,
  fileSourceOptionsSchema,
  gateSpecSchema,
  overrideOptionsSchema,
  routeSpecSchema,
  routesOptionsSchema,
  routeTableSchema,
  shadowSpecSchema,
} from './options.js';
export {
  etcdSource,
  fileSource,
  parseTableText,
  SourceError,
  type TableDocument,
  type TableSource,
} from './source.js';
export {
  compileTable,
  type FallbackReason,
  type FallbackSpec,
  type GateSpec,
  hostMatches,
  MODES,
  type Mode,
  parseHostPattern,
  type RouteSpec,
  type RouteTable,
  type ShadowSpec,
  type Sticky,
} from './table.js';
export { LATENCY_SAMPLES, type LatencySummary, type SideCounts, type SideSnapshot } from './window.js';
