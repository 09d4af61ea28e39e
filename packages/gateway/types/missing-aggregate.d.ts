// Stands in for @gatehousejs/aggregate's types when it is not installed (an optional peer dependency
// of @gatehousejs/gateway): gw.aggregate(), gw.responseCache() and gw.cachedClient() need it. Using
// them without it is a type error naming the package; nothing else is affected.
type InstallGatehouseAggregate = {
  readonly 'install @gatehousejs/aggregate to use gw.aggregate() and gw.responseCache()': never;
};
export interface Aggregate extends InstallGatehouseAggregate {}
export interface AggregateOptions extends InstallGatehouseAggregate {}
export interface CacheOptions extends InstallGatehouseAggregate {}
export interface HttpCache extends InstallGatehouseAggregate {}
export interface SingleFlight extends InstallGatehouseAggregate {}
export declare function purgeHandler(missing: InstallGatehouseAggregate): never;
