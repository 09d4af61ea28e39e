// Hover text for keys whose package schema carries no description, by path (`services.*.retry`,
// `routes[].mode`): the JSON Schema and the configuration reference (docs/configuration.md) use it.
export const DESCRIPTIONS: Readonly<Record<string, string>> = {};
