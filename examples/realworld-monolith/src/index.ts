export { conduitNotFound, conduitRouter } from './conduit-routes.js';
export {
  ADMIN_PREFIX,
  articleScreen,
  authOptions,
  defaultRateLimits,
  type GatehouseSetup,
  mountGatehouse,
  principalUserId,
  requestedApiVersion,
  versioningOptions,
} from './gatehouse.js';
export { createMonolith, type Monolith, type MonolithOptions } from './monolith.js';
export { type ServiceName, type Stack, type StackOptions, startStack } from './stack.js';
