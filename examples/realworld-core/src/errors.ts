// Conduit's errors, in the shape the RealWorld spec gives (GenericErrorModel):
// `{"errors":{"body":["…"]}}`. Both the monolith and the services render them with errorReply(), so a
// refusal reads the same whichever side answers.

/** An error the API answers with its own status and messages. */
export class ConduitError extends Error {
  readonly status: number;
  readonly messages: readonly string[];

  constructor(status: number, messages: readonly string[]) {
    super(messages.join('; '));
    this.name = 'ConduitError';
    this.status = status;
    this.messages = messages;
  }
}

/** 422: the request is understood but its content is not acceptable. */
export const unprocessable = (...messages: string[]) => new ConduitError(422, messages);
/** 401: no valid credential for an operation that needs one. */
export const unauthorized = (message = 'missing or invalid authorization token') =>
  new ConduitError(401, [message]);
/** 403: the caller may not do this to this resource. */
export const forbidden = (message: string) => new ConduitError(403, [message]);
/** 404: the named resource does not exist. */
export const notFound = (what: string) => new ConduitError(404, [`${what} not found`]);
