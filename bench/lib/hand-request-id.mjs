// The least a request-id middleware can do — validate an incoming id, else generate a UUID, echo it —
// written by hand with no framework-neutral layer. The *-request-id-floor benchmarks measure it, so the
// cost of Gatehouse's own request ids can be read against the cost of any request id at all.
import { randomUUID } from 'node:crypto';

const WELL_FORMED = /^[A-Za-z0-9._:+=/@-]{1,128}$/;

/** @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res */
export function assignRequestId(req, res) {
  const incoming = req.headers['x-request-id'];
  res.setHeader(
    'x-request-id',
    typeof incoming === 'string' && WELL_FORMED.test(incoming) ? incoming : randomUUID(),
  );
}
