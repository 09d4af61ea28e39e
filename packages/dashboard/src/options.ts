// The dashboard's options as a valibot schema (exported: the configuration-wide JSON Schema can take it),
// checked through core's parseOptions: every problem in one ConfigError with its path.
import type { TypesAgree } from '@gatehousejs/core';
import * as v from 'valibot';

/** Options of {@link addDashboard}. */
export interface DashboardOptions {
  /**
   * Where the page is served, below the admin prefix (lower-case letters, digits, `-`, `_` and `/`).
   * Its assets and event stream sit below it (`/dashboard/events`, …). @default '/dashboard'
   */
  path?: string;
  /** The page's title. @default 'Gatehouse migration' */
  title?: string;
  /** How often open pages get fresh numbers over their event stream, in ms. @default 1_000 */
  refreshMs?: number;
  /** How often a point of each route's charts is taken, in ms. @default 5_000 */
  sampleMs?: number;
  /** Points kept per route for the charts (the oldest go first). @default 360 (30 minutes at 5 s) */
  historyPoints?: number;
  /** Pages open at once (event streams); one more gets 503 `GH_DASHBOARD_BUSY`. @default 16 */
  maxClients?: number;
}

export const dashboardOptionsSchema = v.strictObject({
  path: v.optional(
    v.pipe(
      v.string(),
      v.regex(
        /^(?:\/[a-z0-9_-]+)+$/,
        "must be a path below the admin prefix, such as '/dashboard' (lower-case letters, digits, '-', '_')",
      ),
    ),
  ),
  title: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(200))),
  refreshMs: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(100), v.maxValue(60_000))),
  sampleMs: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(100), v.maxValue(3_600_000))),
  historyPoints: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0), v.maxValue(100_000))),
  maxClients: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0), v.maxValue(10_000))),
});

const typesAgree: TypesAgree<v.InferInput<typeof dashboardOptionsSchema>, DashboardOptions> = true;
void typesAgree;
