// Every way versioning refuses a request, each with a stable code. The refusals list the supported
// versions (header and problem member), so a client can correct itself without reading the docs.
import { defineError, type ErrorOptions, GatehouseError } from '@gatehousejs/core';

/** The request names no version, and `required` is set (or a per-version table has no default). 400. */
export const VersionUnspecified = defineError('GH_VERSION_UNSPECIFIED', 400, 'API version required');

/**
 * The version asked for is not one the API serves (or is not a version at all). 400; sent as 406 when
 * the version came from `Accept` and as 415 when it came from `Content-Type` (see {@link unsupported}).
 */
export const VersionUnsupported = defineError('GH_VERSION_UNSUPPORTED', 400, 'Unsupported API version');

/** Two sources (or two values of one source) name different versions. 400. */
export const VersionAmbiguous = defineError('GH_VERSION_AMBIGUOUS', 400, 'Ambiguous API version');

/** The version's sunset has passed and `afterSunset` is `'refuse'`. 410, with `Sunset` and `Link`. */
export const VersionSunset = defineError('GH_VERSION_SUNSET', 410, 'API version retired');

// One code, three statuses: what the client must change is the same (the version), but where it said
// it decides the status that tells a generic client which header was at fault (RFC 9110 §15.5.7,
// §15.5.16). The registered spec stays the 400 one; these are the same code rendered differently.
const NOT_ACCEPTABLE = Object.freeze({ ...VersionUnsupported.spec, status: 406 });
const UNSUPPORTED_MEDIA_TYPE = Object.freeze({ ...VersionUnsupported.spec, status: 415 });

/**
 * `GH_VERSION_UNSUPPORTED` with the status for where the version came from: 406 for `Accept`, 415 for
 * `Content-Type`, 400 otherwise.
 */
export function unsupported(
  from: 'accept' | 'content-type' | 'other',
  detail: string,
  options?: ErrorOptions,
): GatehouseError {
  if (from === 'accept') return new GatehouseError(NOT_ACCEPTABLE, detail, options);
  if (from === 'content-type') return new GatehouseError(UNSUPPORTED_MEDIA_TYPE, detail, options);
  return new VersionUnsupported(detail, options);
}
