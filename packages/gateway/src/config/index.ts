// The whole gateway's configuration: its schema, checking files and objects, the JSON Schema, and
// building and reloading a gateway from one. A subpath of its own (`@gatehousejs/gateway/config`):
// it loads every capability package's schema, which an app that configures Gatehouse in code (or
// imports the adapters) does not pay for.
export { configJsonSchema, configJsonSchemaText, GATEHOUSE_SCHEMA_ID } from './json-schema.js';
export {
  checkGatehouseConfig,
  type LoadedConfig,
  type LoadOptions,
  loadGatehouseConfig,
  parseGatehouseConfig,
  redactForDisplay,
} from './load.js';
export {
  ConfigRuntime,
  type ConfigSourceOptions,
  type ConfigStatus,
  type FromConfigOptions,
  fromConfigEtcd,
  fromConfigFile,
  fromConfigFileSync,
  fromConfigObject,
  type GatewayMaker,
  type ReloadResult,
} from './runtime.js';
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
} from './schema.js';
