// The Conduit API's table of operations: method, path (in the syntax both Express and @koa/router
// read), who may call it, which group it belongs to (the unit a service takes over), and whether it
// reads a body. The monolith registers every row; a service registers its groups' rows.
import type { IncomingMessage } from 'node:http';
import type { Conduit, ConduitRequest } from './conduit.js';
import { unauthorized } from './errors.js';
import { errorReply, type Rendered, readJsonBody, render } from './http.js';
import { tokenFromHeader } from './tokens.js';

/**
 * `users`: registration, login, the current user (they issue tokens: they stay in the monolith).
 * `articles`: articles, the feed, favorites and comments. `profiles`: profiles, following and tags.
 */
export type OperationGroup = 'users' | 'articles' | 'profiles';

/** `required`: 401 without a caller; `optional`: answers anyone, personalised for a caller. */
export type Access = 'required' | 'optional' | 'public';

export interface Operation {
  readonly name: keyof Conduit;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly access: Access;
  readonly group: OperationGroup;
  readonly readsBody: boolean;
}

const op = (
  name: keyof Conduit,
  method: Operation['method'],
  path: string,
  access: Access,
  group: OperationGroup,
): Operation => ({ name, method, path, access, group, readsBody: WITH_BODY.has(name) });

const WITH_BODY = new Set<keyof Conduit>([
  'register',
  'login',
  'updateUser',
  'createArticle',
  'updateArticle',
  'addComment',
]);

/** Every operation, in registration order (`/api/articles/feed` before `/api/articles/:slug`). */
export const OPERATIONS: readonly Operation[] = Object.freeze([
  op('register', 'POST', '/api/users', 'public', 'users'),
  op('login', 'POST', '/api/users/login', 'public', 'users'),
  op('currentUser', 'GET', '/api/user', 'required', 'users'),
  op('updateUser', 'PUT', '/api/user', 'required', 'users'),

  op('getProfile', 'GET', '/api/profiles/:username', 'optional', 'profiles'),
  op('follow', 'POST', '/api/profiles/:username/follow', 'required', 'profiles'),
  op('unfollow', 'DELETE', '/api/profiles/:username/follow', 'required', 'profiles'),
  op('listTags', 'GET', '/api/tags', 'public', 'profiles'),

  op('feed', 'GET', '/api/articles/feed', 'required', 'articles'),
  op('listArticles', 'GET', '/api/articles', 'optional', 'articles'),
  op('createArticle', 'POST', '/api/articles', 'required', 'articles'),
  op('getArticle', 'GET', '/api/articles/:slug', 'optional', 'articles'),
  op('updateArticle', 'PUT', '/api/articles/:slug', 'required', 'articles'),
  op('deleteArticle', 'DELETE', '/api/articles/:slug', 'required', 'articles'),
  op('favorite', 'POST', '/api/articles/:slug/favorite', 'required', 'articles'),
  op('unfavorite', 'DELETE', '/api/articles/:slug/favorite', 'required', 'articles'),
  op('listComments', 'GET', '/api/articles/:slug/comments', 'optional', 'articles'),
  op('addComment', 'POST', '/api/articles/:slug/comments', 'required', 'articles'),
  op('deleteComment', 'DELETE', '/api/articles/:slug/comments/:id', 'required', 'articles'),
]);

/** The operations of some groups, in registration order. */
export function operationsOf(groups: readonly OperationGroup[]): Operation[] {
  return OPERATIONS.filter((o) => groups.includes(o.group));
}

/** How a framework binding identifies callers and reports faults. */
export interface Binding {
  conduit: Conduit;
  /**
   * The caller's user id, undefined when the request is anonymous. Throws a 401 ConduitError for a
   * credential that cannot be accepted.
   */
  identify(req: IncomingMessage): number | undefined | Promise<number | undefined>;
  /** The API version the caller asked for (Gatehouse's versioning found it); 1 when absent. */
  apiVersion?(req: IncomingMessage): number | undefined;
  /** A fault that is not the client's (answered 500 without details). */
  onUnexpected(error: unknown, req: IncomingMessage): void;
}

/** One request as a binding hands it over: the Node request, its full URL and the path parameters. */
export interface Incoming {
  req: IncomingMessage;
  /** The request target as received (`/api/articles?tag=x`): the query is read from it. */
  url: string;
  params: Readonly<Record<string, string>>;
}

/**
 * Serves one operation: identifies the caller, enforces `access`, reads the body, runs it, and
 * renders the reply or the error. Never throws.
 */
export async function serveOperation(
  binding: Binding,
  operation: Operation,
  incoming: Incoming,
): Promise<Rendered> {
  const { req } = incoming;
  try {
    const viewer = await binding.identify(req);
    if (operation.access === 'required' && viewer === undefined) throw unauthorized();
    const body = operation.readsBody ? await readJsonBody(req) : undefined;
    const q = incoming.url.indexOf('?');
    const request: ConduitRequest = {
      viewer,
      token: tokenFromHeader(req.headers.authorization),
      params: incoming.params,
      query: new URLSearchParams(q === -1 ? '' : incoming.url.slice(q + 1)),
      body,
      apiVersion: binding.apiVersion?.(req) ?? 1,
    };
    return render(await binding.conduit[operation.name](request));
  } catch (error) {
    return render(errorReply(error, (e) => binding.onUnexpected(e, req)));
  }
}
