// Issue 19: what building the gateway from a configuration file costs a request, against the same
// gateway built in code (the floor): the file's one mounted middleware picks the current generation
// and runs the chain composed in core, where code mounts each capability as its own Express middleware.
export const name = 'express-config-file';
export const target = 0.97;
export const description =
  'Express 5 with request ids, the admin, auth, a memory rate limit and a route table mounted method by method (baseline) vs the same gateway from a YAML file with gatewayFromFile() + gw.mount(app) (candidate).';
export const baseline = '../servers/express-config-code.mjs';
export const candidate = '../servers/express-config-file.mjs';
export const requests = [{ method: 'GET', path: '/hello' }];
/** @param {{ side: string, body: string, headers: Headers }} res */
export function check({ body, headers }) {
  if (JSON.parse(body).hello !== 'world') throw new Error(`unexpected body ${body}`);
  if (headers.get('x-request-id') === null) throw new Error('x-request-id missing');
  if (headers.get('ratelimit') === null) throw new Error('RateLimit missing');
}
