// The types of @gatehousejs/aggregate for this package's declarations: the package's own when it is
// installed, else missing-aggregate.d.ts (see package.json `imports` and `typesVersions`).
export type * from '#aggregate';
