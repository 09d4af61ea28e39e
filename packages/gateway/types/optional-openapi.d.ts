// The types of @gatehousejs/openapi for this package's declarations: the package's own when it is
// installed, else missing-openapi.d.ts (see package.json `imports` and `typesVersions`).
export type * from '#openapi';
