export { conduitNotFound, conduitRouter } from './conduit-routes.js';
export {
  type AccessLogger,
  ADMIN_PREFIX,
  CONFIG_FILE,
  type GatehouseEnv,
  type GatehouseOptions,
  gatehouseFromFile,
  principalUserId,
  readGatehouseFile,
  requestedApiVersion,
  WORKSPACE,
} from './gatehouse.js';
export { createMonolith, type Monolith, type MonolithOptions } from './monolith.js';
export { type MigrationLine, type ServiceName, type Stack, type StackOptions, startStack } from './stack.js';
