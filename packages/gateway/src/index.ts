export {
  type AdminActions,
  AdminAudit,
  type AuditEntry,
  auditChannel,
} from './admin-actions.js';
// The configuration's machinery is `@gatehousejs/gateway/config`, with the types that name the
// configuration itself (ConfigRuntime, GatehouseConfig, LoadedConfig, …): they refer to every
// capability package's options, which this entry point must not need installed. These do not.
export type {
  ConfigSourceOptions,
  ConfigStatus,
  FromConfigOptions,
  GatewayConfiguration,
  LoadOptions,
  ReloadResult,
} from './config/types.js';
export { type ConfigEntries, configEntries, type EtcdConfigLocation } from './config-entry.js';
export {
  AdminBadRequest,
  AdminConflict,
  AdminUnknownRoute,
  AdminUnsupportedMediaType,
  ConfigReloadRejected,
} from './errors.js';
export { FrameworkGateway, type GatewayAdminOptions } from './framework-gateway.js';
