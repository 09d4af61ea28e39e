// Stands in for @gatehousejs/routes' types when it is not installed (an optional peer dependency of
// @gatehousejs/gateway): gw.routes(), gw.route() and gw.router() need it. Using them without it is a
// type error naming the package; nothing else is affected.
type InstallGatehouseRoutes = { readonly 'install @gatehousejs/routes to use gw.routes()': never };
export type Mode = 'local' | 'shadow' | 'split' | 'fallback' | 'remote';
export interface ModeChange extends InstallGatehouseRoutes {}
export interface Routes extends InstallGatehouseRoutes {}
export interface RouteSpec extends InstallGatehouseRoutes {}
export interface RoutesOptions extends InstallGatehouseRoutes {}
