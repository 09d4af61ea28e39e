// The types of @gatehousejs/dashboard for this package's declarations: the package's own when it is
// installed, else missing-dashboard.d.ts (see package.json `imports` and `typesVersions`).
export type * from '#dashboard';
