export {
  ANONYMOUS_PROFILE_CACHE,
  type Conduit,
  type ConduitOptions,
  type ConduitRequest,
  createConduit,
  slugify,
} from './conduit.js';
export { type Database, type DatabaseOptions, openDatabase, type Queryable } from './database.js';
export { ConduitError, forbidden, notFound, unauthorized, unprocessable } from './errors.js';
export {
  errorBody,
  errorReply,
  JSON_CONTENT_TYPE,
  MAX_BODY_BYTES,
  notFoundReply,
  type Rendered,
  type Reply,
  readJsonBody,
  render,
} from './http.js';
export {
  type Access,
  type Binding,
  type Incoming,
  OPERATIONS,
  type Operation,
  type OperationGroup,
  operationsOf,
  serveOperation,
} from './operations.js';
export { hashPassword, verifyPassword } from './passwords.js';
export { migrate } from './schema.js';
export {
  createTokens,
  TOKEN_ALGORITHM,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  type TokenOptions,
  type Tokens,
  tokenFromHeader,
  userIdOf,
} from './tokens.js';
export {
  articleListItemView,
  articleView,
  commentView,
  profileView,
  timestamp,
  userView,
} from './views.js';
