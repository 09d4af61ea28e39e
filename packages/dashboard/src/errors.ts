// Errors of the dashboard package, each with a stable code (docs/errors.md).
import { defineError } from '@gatehousejs/core';

/**
 * More dashboard pages are open (live event streams) than `maxClients` allows. 503 with
 * `Retry-After`; close a page or raise `maxClients`.
 */
export const DashboardBusy = defineError('GH_DASHBOARD_BUSY', 503, 'Too many dashboard pages open', {
  expose: true,
});
