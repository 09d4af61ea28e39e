export {
  unsupported,
  VersionAmbiguous,
  VersionSunset,
  VersionUnspecified,
  VersionUnsupported,
} from './errors.js';
export {
  type AcceptStatement,
  acceptStatements,
  contentTypeVersions,
  MAX_ACCEPT_RANGES,
  type MediaTypeRule,
} from './media-type.js';
export {
  type CustomSource,
  type DeclaredVersion,
  type HeaderSourceOptions,
  type MediaTypeSourceOptions,
  type PathSourceOptions,
  type QuerySourceOptions,
  type VersionDeclaration,
  type VersioningHeaders,
  type VersioningOptions,
  type VersionSourceOptions,
  versioningOptionsSchema,
} from './options.js';
export {
  type ApiVersion,
  compareVersions,
  parseVersion,
  parseVersionRange,
  sameVersion,
  type VersionRange,
} from './version.js';
export {
  API_REQUESTS_METRIC,
  API_VERSION_ANNOTATION,
  type NativeHandler,
  type RequestedVersion,
  type Versioning,
  type VersioningContext,
  type VersionMethod,
  type VersionRouteOptions,
  type VersionSource,
  type VersionTable,
  versioning,
} from './versioning.js';
