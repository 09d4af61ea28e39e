// The types of @gatehousejs/versioning for this package's declarations: the package's own when it is
// installed, else missing-versioning.d.ts (see package.json `imports` and `typesVersions`).
export type * from '#versioning';
