export {
  type ApiKeyCacheOptions,
  type ApiKeyEntry,
  type ApiKeyOptions,
  type ApiKeyPrincipal,
  type ApiKeyRedisClient,
  apiKeyAuthenticator,
  apiKeyEntrySchema,
  apiKeyOptionsSchema,
  apiKeyPrincipalSchema,
  hashApiKey,
} from './api-keys.js';
export { type Auth, type AuthOptions, type AuthStats, auth } from './auth.js';
export { type BearerOptions, readBearer } from './bearer.js';
export {
  AuthConflict,
  AuthExpired,
  AuthFailed,
  AuthForbidden,
  AuthInvalid,
  AuthRequired,
  AuthUnavailable,
  bearerError,
  type RefusalReason,
  refusalReason,
  refuse,
} from './errors.js';
export {
  createIdentityVerifier,
  type ForwardOptions,
  forwardOptionsSchema,
  forwardTokenSchema,
  IDENTITY_HEADER,
  type IdentityAlgorithm,
  type IdentityVerifier,
  type IdentityVerifierOptions,
  identityVerifierOptionsSchema,
  type PrincipalField,
} from './forward.js';
export {
  type IdentityAuthenticatorOptions,
  identityAuthenticator,
  identityAuthenticatorOptionsSchema,
} from './identity.js';
export {
  type IntrospectionCacheOptions,
  type IntrospectionOptions,
  introspectionAuthenticator,
  introspectionOptionsSchema,
} from './introspection.js';
export {
  createJwksCache,
  type JwksCache,
  type JwksOptions,
  type JwksStats,
  jwksOptionsSchema,
} from './jwks.js';
export {
  type JwtAuthenticator,
  type JwtOptions,
  type JwtStaticKey,
  jwtAuthenticator,
  jwtOptionsSchema,
  jwtStaticKeySchema,
} from './jwt.js';
export {
  type MtlsIdentity,
  type MtlsOptions,
  mtlsAuthenticator,
  mtlsOptionsSchema,
  parseSubjectAltName,
  type SubjectAltNames,
  spiffeTrustDomain,
} from './mtls.js';
export { authOptionsSchema, authRuleSchema, requirementSchema } from './options.js';
export {
  type CredentialLocation,
  credentialLocationSchema,
  type PassportOptions,
  type PassportRequest,
  type PassportStrategy,
  passportAuthenticator,
  passportOptionsSchema,
} from './passport.js';
export { type Authenticator, claimAt, type Principal, scopeList } from './principal.js';
export type { AuthRule, Requirement } from './rules.js';
