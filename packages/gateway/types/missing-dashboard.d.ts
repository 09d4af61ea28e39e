// Stands in for @gatehousejs/dashboard's types when it is not installed (an optional peer dependency
// of @gatehousejs/gateway): gw.dashboard() needs it. Using it without the package is a type error
// naming the package; nothing else is affected.
type InstallGatehouseDashboard = {
  readonly 'install @gatehousejs/dashboard to use gw.dashboard()': never;
};
export interface Dashboard extends InstallGatehouseDashboard {}
export interface DashboardOptions extends InstallGatehouseDashboard {}
