export {
  type AdminActions,
  AdminAudit,
  type AuditEntry,
  auditChannel,
} from './admin-actions.js';
export { configJsonSchema, configJsonSchemaText, GATEHOUSE_SCHEMA_ID } from './config/json-schema.js';
export {
  checkGatehouseConfig,
  type LoadedConfig,
  type LoadOptions,
  loadGatehouseConfig,
  parseGatehouseConfig,
  redactForDisplay,
} from './config/load.js';
export {
  ConfigRuntime,
  type ConfigSourceOptions,
  type ConfigStatus,
  type FromConfigOptions,
  fromConfigEtcd,
  fromConfigFile,
  fromConfigObject,
  type GatewayMaker,
  type ReloadResult,
} from './config/runtime.js';
export {
  adminFileSchema,
  authFileSchema,
  authMethodFileSchema,
  CONFIG_KEYS,
  type GatehouseConfig,
  type GatehouseConfigInput,
  gatehouseConfigSchema,
  RESTART_ONLY,
  rateLimitFileSchema,
  routeFileSchema,
  serviceFileSchema,
} from './config/schema.js';
export {
  AdminBadRequest,
  AdminConflict,
  AdminUnknownRoute,
  AdminUnsupportedMediaType,
  ConfigReloadRejected,
} from './errors.js';
export { FrameworkGateway, type GatewayAdminOptions } from './framework-gateway.js';
