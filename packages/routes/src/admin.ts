// `/routes` and `/migration` on `gw.admin()`: registered through core's admin endpoints, so they sit
// behind the gateway's admin access policy and show only what `admin.reveal` allows.
import type { AdminView, Gateway } from '@gatehousejs/core';
import type { MigrationReport, Routes } from './controller.js';
import type { DiffRecord } from './diff.js';

const NO_STORE = { 'cache-control': 'no-store' };

/** What `/migration` shows besides the routes. */
export interface RoutesAdminExtras {
  /**
   * The audited changes (who, when, what, from where, why), newest first, bounded: shown as
   * `history` (the gateway's admin write API keeps it).
   */
  history?: () => readonly unknown[];
}

/**
 * Where a gateway's migration data is read in process (`core.shared.get(MIGRATION_SOURCE)`): what
 * `/migration` shows, for pages such as `@gatehousejs/dashboard` that show it differently. Set by
 * {@link addRoutesAdmin} (so by the gateway's first `gw.routes()`).
 */
export const MIGRATION_SOURCE: unique symbol = Symbol.for('gatehouse.routes.migrationSource');

/** What {@link MIGRATION_SOURCE} holds. */
export interface MigrationSource {
  /** Every route's `/migration` line, as `view` allows. */
  reports(view: AdminView): MigrationReport[];
  /** The audited changes, newest first, when the gateway keeps them (its admin write API does). */
  history(): readonly unknown[] | undefined;
}

/**
 * Adds `/routes` (each controller's table: name, origin, revision, rejection, routes) and `/migration`
 * (each route's modes, traffic, errors, latency, diffs and changes, and the audited `history` when
 * `extras` gives one) to the gateway's admin endpoints.
 * Unless `admin.reveal.filePaths`, a table file appears by its base name only, in its origin and in
 * rejection messages; unless `admin.reveal.requestData`, the latest differences are listed without the
 * path, method and request id of the request they came from and without the values that differed.
 */
export function addRoutesAdmin(
  core: Gateway,
  controllers: () => readonly Routes[],
  extras: RoutesAdminExtras = {},
): void {
  const source: MigrationSource = {
    reports: (view) => migrationReports(controllers(), view),
    history: () => extras.history?.(),
  };
  core.shared.set(MIGRATION_SOURCE, source);
  core.addAdminEndpoint('/routes', (_exchange, view) => ({
    status: 200,
    headers: NO_STORE,
    body: { controllers: controllers().map((routes) => describeFor(routes, view)) },
  }));
  core.addAdminEndpoint('/migration', (_exchange, view) => ({
    status: 200,
    headers: NO_STORE,
    body: {
      routes: migrationReports(controllers(), view),
      ...(extras.history === undefined ? {} : { history: extras.history() }),
    },
  }));
}

/**
 * Every route's `/migration` line across `controllers`, as `view` allows (what `/migration` lists;
 * the dashboard shows the same).
 */
export function migrationReports(controllers: readonly Routes[], view: AdminView): MigrationReport[] {
  return controllers.flatMap((routes) => routes.migration().map((r) => migrationFor(r, view)));
}

/** An origin that names a file (not `code`, not `etcd:<key>`). */
const isFile = (origin: string) => !origin.startsWith('etcd:') && /[/\\]/.test(origin);

function describeFor(routes: Routes, view: AdminView): ReturnType<Routes['describe']> {
  const described = routes.describe();
  if (view.filePaths) return described;
  const files = [described.origin, described.rejection?.origin ?? ''].filter(isFile);
  const shown = (origin: string) => (isFile(origin) ? view.file(origin) : origin);
  const rejection = described.rejection;
  return {
    ...described,
    origin: shown(described.origin),
    rejection:
      rejection === undefined
        ? undefined
        : {
            ...rejection,
            origin: shown(rejection.origin),
            problems: rejection.problems.map((p) => ({ ...p, message: view.redactFiles(p.message, files) })),
          },
  };
}

/** A difference as evidence without the caller's data: when it happened, which fields, how. */
interface RedactedRecord {
  at: string;
  differences: Array<{ field: string; kind: string }>;
  omitted: number;
}

function migrationFor(report: MigrationReport, view: AdminView): MigrationReport {
  if (view.requestData) return report;
  const latest: RedactedRecord[] = report.latest.map((record: DiffRecord) => ({
    at: record.at,
    differences: record.differences.map((d) => ({ field: d.field, kind: d.kind })),
    omitted: record.omitted,
  }));
  return { ...report, latest: latest as unknown as readonly DiffRecord[] };
}
