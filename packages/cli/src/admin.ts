// The running gateway's admin API, as the command reaches it: one request, problems turned into
// messages that say what to do (start the gateway, point --url at its admin prefix, pass a credential).
import { CliError } from './io.js';

/** How to reach the admin API. */
export interface AdminTarget {
  /** Base URL of the admin endpoints, with `admin.prefix`: `http://127.0.0.1:8080/_gatehouse`. */
  readonly url: string;
  /** Extra request headers (a credential). */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

/** A problem+json answer (RFC 9457), as far as the command reads it. */
interface Problem {
  code?: string;
  title?: string;
  detail?: string;
  problems?: { path: string; message: string; source?: { file: string; line: number; column: number } }[];
}

/** `GET` or `POST` an admin endpoint; returns the JSON body, or throws a {@link CliError}. */
export async function adminRequest(
  target: AdminTarget,
  path: string,
  options: { method?: 'GET' | 'POST'; body?: unknown } = {},
): Promise<unknown> {
  const url = `${target.url.replace(/\/+$/, '')}${path}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.method ?? 'GET',
      headers: {
        accept: 'application/json',
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...target.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (error) {
    // fetch() fails with a TypeError whose cause says why (one error, or one per address tried).
    const reason = (error as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } })
      .cause;
    const cause = reason?.code ?? reason?.errors?.[0]?.code ?? reason?.message ?? (error as Error).name;
    if (cause === 'TimeoutError')
      throw new CliError(
        `${url} did not answer within ${target.timeoutMs} ms. Is the gateway overloaded? Raise --timeout.`,
      );
    throw new CliError(
      `Cannot reach the gateway's admin API at ${url} (${cause}). Is the gateway running? Point --url (or GATEHOUSE_ADMIN_URL) at its address and admin prefix, e.g. http://127.0.0.1:8080/_gatehouse.`,
    );
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (response.ok) return body;
  const problem = (typeof body === 'object' && body !== null ? body : {}) as Problem;
  throw new CliError(explain(url, response.status, problem));
}

/** What a refusal means for someone at a terminal. */
function explain(url: string, status: number, problem: Problem): string {
  const said = problem.detail ?? problem.title ?? `HTTP ${status}`;
  const code = problem.code === undefined ? '' : ` [${problem.code}]`;
  switch (problem.code) {
    case 'GH_ADMIN_FORBIDDEN':
      return `The gateway refused (403${code}): ${said}. Admin endpoints answer only callers the gateway's admin.access admits: run this from an allowed address (admin.access.peers), use the admin port (admin.access.ports), or pass a credential (--token, --api-key or --header). Writes (promote, set, rollback, rearm, reload, purge) are admitted by admin.access.write when the gateway has it, and never by dangerouslyPublic alone.`;
    case 'GH_AUTH_REQUIRED':
    case 'GH_AUTH_INVALID':
    case 'GH_AUTH_EXPIRED':
      return `The gateway wants a credential (${status}${code}): ${said}. Pass one with --token (Authorization: Bearer), --api-key (x-api-key) or --header 'name: value' (or GATEHOUSE_ADMIN_TOKEN / GATEHOUSE_ADMIN_API_KEY).`;
    case 'GH_AUTH_FORBIDDEN':
      return `The credential is not enough (403${code}): ${said}. The admin requires a principal with the roles or scopes of admin.access.require (for writes, admin.access.write.require when set).`;
    case 'GH_ADMIN_UNKNOWN_ROUTE':
      return `${said}. List the routes with: gatehouse routes`;
    case 'GH_ADMIN_CONFLICT':
      return `Nothing changed (409${code}): ${said}. Look at the route with: gatehouse migration <route>`;
    case 'GH_CONFIG_RELOAD_REJECTED':
      return [
        `${said}${code}`,
        ...(problem.problems ?? []).map(
          (p) =>
            `  ${p.source === undefined ? '' : `${p.source.file}:${p.source.line}:${p.source.column} `}${p.path === '' ? '' : `${p.path}: `}${p.message}`,
        ),
      ].join('\n');
    default:
      if (status === 404)
        return `${url} is not an admin endpoint of this gateway (404${code}). Check --url: it must include admin.prefix, and /config needs a gateway built from a configuration file; /routes and /migration need gw.routes().`;
      return `The gateway answered ${status}${code}: ${said}`;
  }
}
