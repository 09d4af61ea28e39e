// The dashboard's options as a zod schema (exported: the configuration-wide JSON Schema can take it),
// checked through core's parseOptions: every problem in one ConfigError with its path.
import { z } from 'zod';

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

const positiveInt = () => z.int().positive();

export const dashboardOptionsSchema = z.strictObject({
  path: z
    .string()
    .regex(/^(?:\/[a-z0-9_-]+)+$/, {
      error:
        "must be a path below the admin prefix, such as '/dashboard' (lower-case letters, digits, '-', '_')",
    })
    .optional(),
  title: z.string().min(1).max(200).optional(),
  refreshMs: z.int().min(100).max(60_000).optional(),
  sampleMs: z.int().min(100).max(3_600_000).optional(),
  historyPoints: positiveInt().max(100_000).optional(),
  maxClients: positiveInt().max(10_000).optional(),
});

type Agree<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const typesAgree: Agree<z.input<typeof dashboardOptionsSchema>, DashboardOptions> = true;
void typesAgree;
