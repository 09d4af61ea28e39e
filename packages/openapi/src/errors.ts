// The errors request and response validation can send. Each is rendered as RFC 9457 problem+json by
// the adapters; a request's problems are listed in an `errors` array (see `ValidationIssue`).
import { defineError } from '@gatehousejs/core';

/** A request does not match the operation's parameters or body; the problem lists every issue found. */
export const RequestInvalid = defineError(
  'GH_OPENAPI_REQUEST_INVALID',
  400,
  'Request does not match the API description',
);

/** The request body could not be parsed as its content type says (broken JSON, form or multipart). */
export const BodyMalformed = defineError(
  'GH_OPENAPI_BODY_MALFORMED',
  400,
  'Request body does not parse as its content type',
);

/** The request body is larger than `requests.maxBodyBytes`. */
export const BodyTooLarge = defineError('GH_OPENAPI_BODY_TOO_LARGE', 413, 'Request body too large');

/** The request's content type is not one the operation accepts. */
export const UnsupportedMediaType = defineError(
  'GH_OPENAPI_UNSUPPORTED_MEDIA_TYPE',
  415,
  'Unsupported media type',
);

/** The path is not in the API description (with `requests.unknownPath: 'reject'`). */
export const UnknownOperation = defineError(
  'GH_OPENAPI_UNKNOWN_OPERATION',
  404,
  'No such operation in the API description',
);

/** The response does not match the API description (`responses.mode: 'enforce'`). Never shows details. */
export const ResponseInvalid = defineError(
  'GH_OPENAPI_RESPONSE_INVALID',
  500,
  'Response does not match the API description',
);

/** A request arrived before the document finished loading and the gateway was not started. */
export const NotLoaded = defineError('GH_OPENAPI_NOT_LOADED', 503, 'API description not loaded yet', {
  expose: true,
});
