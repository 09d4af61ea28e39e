export { addRoutesAdmin } from './admin.js';
export { hasBody, type PeekedBody, peekBody, restoreBody } from './body.js';
export {
  type MigrationReport,
  type ModeChange,
  type OverrideOptions,
  observeMigration,
  type Rejection,
  Routes,
  type RoutesContext,
  type RoutesOptions,
  type SideReport,
} from './controller.js';
export {
  createDiffer,
  type Differ,
  type Difference,
  type DiffOptions,
  type DiffRecord,
  type DiffStats,
  type ResponseSample,
} from './diff.js';
export { RouteBodyConsumed } from './errors.js';
export {
  type ContractReport,
  observeRemoteResponses,
  type RemoteResponse,
  type RemoteResponseObserver,
  remoteObservers,
} from './observe.js';
export {
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
