// Stands in for @gatehousejs/openapi's types when it is not installed (an optional peer dependency of
// @gatehousejs/gateway): gw.validate() needs it. Using it without it is a type error naming the
// package; nothing else is affected.
type InstallGatehouseOpenApi = { readonly 'install @gatehousejs/openapi to use gw.validate()': never };
export interface OpenApiOptions extends InstallGatehouseOpenApi {}
export interface OpenApiValidator extends InstallGatehouseOpenApi {}
