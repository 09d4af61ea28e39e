export { FILE_PLACEHOLDER } from './body.js';
export type { MediaSpec, MockAnswer, Operation } from './compile.js';
export { type LoadedDocument, loadDocument } from './document.js';
export {
  BodyMalformed,
  BodyTooLarge,
  NotLoaded,
  RequestInvalid,
  ResponseInvalid,
  UnknownOperation,
  UnsupportedMediaType,
} from './errors.js';
export {
  type MockMode,
  type OpenApiOptions,
  openapiOptionsSchema,
  type ReferenceOptions,
  type RequestOptions,
  type ResponseMode,
  type ResponseOptions,
  type UnknownPathPolicy,
} from './options.js';
export { contractField, type ResponseSample, type ValidationIssue } from './response.js';
export {
  createOpenApi,
  type OpenApiContext,
  type OpenApiRequest,
  type OpenApiStats,
  OpenApiValidator,
  openapi,
  type ResponseViolation,
} from './validator.js';
