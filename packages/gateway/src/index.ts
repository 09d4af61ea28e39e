export {
  type AdminActions,
  AdminAudit,
  type AuditEntry,
  auditChannel,
} from './admin-actions.js';
// The configuration's machinery is `@gatehousejs/gateway/config`; its types are here too.
export type {
  ConfigRuntime,
  ConfigSourceOptions,
  ConfigStatus,
  FromConfigOptions,
  GatehouseConfig,
  GatehouseConfigInput,
  GatewayMaker,
  LoadedConfig,
  LoadOptions,
  ReloadResult,
} from './config/index.js';
export {
  AdminBadRequest,
  AdminConflict,
  AdminUnknownRoute,
  AdminUnsupportedMediaType,
  ConfigReloadRejected,
} from './errors.js';
export { FrameworkGateway, type GatewayAdminOptions } from './framework-gateway.js';
