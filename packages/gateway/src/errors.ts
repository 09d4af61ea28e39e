// Errors of the admin write API and of configuration reloads, each with a stable code (docs/errors.md).
import { defineError } from '@gatehousejs/core';

/** An admin write whose body is not what the endpoint takes (every problem listed in `problems`). */
export const AdminBadRequest = defineError('GH_ADMIN_BAD_REQUEST', 400, 'Invalid admin request');

/** An admin write naming a route no controller has (a did-you-mean in the detail). */
export const AdminUnknownRoute = defineError('GH_ADMIN_UNKNOWN_ROUTE', 404, 'No such route');

/**
 * An admin write that does not fit the route's state: `expect` names another mode than the current
 * one, a promotion past `remote` or a rollback past `local`, a mode the route cannot take.
 */
export const AdminConflict = defineError(
  'GH_ADMIN_CONFLICT',
  409,
  'Admin change conflicts with the current state',
);

/** Admin writes take `application/json` only (which also keeps browsers from sending them cross-site). */
export const AdminUnsupportedMediaType = defineError(
  'GH_ADMIN_UNSUPPORTED_MEDIA_TYPE',
  415,
  'Admin writes take application/json',
);

/** `POST /config/reload` found an invalid configuration: nothing changed; `problems` lists every one. */
export const ConfigReloadRejected = defineError(
  'GH_CONFIG_RELOAD_REJECTED',
  422,
  'Configuration reload rejected',
);
