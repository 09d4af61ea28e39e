// Stands in for @gatehousejs/client's types when it is not installed (an optional peer dependency of
// @gatehousejs/gateway): gw.client() and gw.deadline() need it. Using them without it is a type error
// naming the package; nothing else is affected.
type InstallGatehouseClient = {
  readonly 'install @gatehousejs/client to use gw.client() and gw.deadline()': never;
};
export interface Client extends InstallGatehouseClient {}
export interface ClientOptions extends InstallGatehouseClient {}
export interface DeadlineOptions extends InstallGatehouseClient {}
