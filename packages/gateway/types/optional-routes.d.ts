// The types of @gatehousejs/routes for this package's declarations: the package's own when it is
// installed, else missing-routes.d.ts (see package.json `imports` and `typesVersions`).
export type * from '#routes';
