// The types of @gatehousejs/client for this package's declarations: the package's own when it is
// installed, else missing-client.d.ts (see package.json `imports` and `typesVersions`).
export type * from '#client';
