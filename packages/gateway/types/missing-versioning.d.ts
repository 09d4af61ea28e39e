// Stands in for @gatehousejs/versioning's types when it is not installed (an optional peer dependency
// of @gatehousejs/gateway): gw.version() needs it. Using it without it is a type error naming the
// package; nothing else is affected.
type InstallGatehouseVersioning = { readonly 'install @gatehousejs/versioning to use gw.version()': never };
export interface NativeHandler extends InstallGatehouseVersioning {}
export interface Versioning extends InstallGatehouseVersioning {}
export interface VersioningOptions extends InstallGatehouseVersioning {}
export interface VersionRouteOptions extends InstallGatehouseVersioning {}
export type VersionMethod<_M> = InstallGatehouseVersioning;
