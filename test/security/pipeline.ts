// A keep-alive, pipelining raw HTTP/1.1 client for the differential path test: request targets go out
// byte for byte (HTTP clients normalize them), many per connection, and every answer comes back in
// order. A request Node's parser may refuse is a fence: it is sent alone on its connection, since
// Node answers a parse error at once (ahead of any response still in progress, which is then lost)
// and closes the connection; the requests behind it are sent again on a new one.
import { connect, type Socket } from 'node:net';
import { parseResponse, type RawResponse } from '../support/raw-http.js';

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

export interface RawRequestBytes {
  readonly bytes: Buffer;
  /** Sent only when nothing else is in flight on its connection, and nothing is sent behind it. */
  readonly fence: boolean;
}

/** A GET with a target given as a byte string (characters up to U+00FF are the bytes sent). */
export function rawGet(target: string, headers: Record<string, string> = {}): RawRequestBytes {
  let head = `GET ${target} HTTP/1.1\r\nhost: differential.test\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  // Node's parser refuses controls, spaces and bytes above 0x7E in a request-target.
  return { bytes: Buffer.from(`${head}\r\n`, 'latin1'), fence: /[^\x21-\x7e]/.test(target) };
}

/** Where one response ends in `data` (from `start`), or -1 when it is not complete yet. */
function responseEnd(data: Buffer, start: number): number {
  const headEnd = data.indexOf(HEAD_END, start);
  if (headEnd === -1) return -1;
  const head = data.subarray(start, headEnd).toString('latin1');
  const bodyStart = headEnd + 4;
  if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) {
    let at = bodyStart;
    for (;;) {
      const lineEnd = data.indexOf(CRLF, at);
      if (lineEnd === -1) return -1;
      const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
      if (!Number.isFinite(size)) throw new Error(`bad chunk size in ${JSON.stringify(head)}`);
      if (size === 0) {
        // No trailers are sent by the servers under test: the last chunk is followed by one CRLF.
        return data.length >= lineEnd + 4 ? lineEnd + 4 : -1;
      }
      at = lineEnd + 2 + size + 2;
      if (at > data.length) return -1;
    }
  }
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  // 204/304 and bodies without a length do not occur here but for the last answer before a close.
  if (length === null) return /^HTTP\/1\.[01] (?:1\d\d|204|304)/.test(head) ? bodyStart : -2;
  const end = bodyStart + Number(length[1]);
  return end <= data.length ? end : -1;
}

/**
 * Sends `requests` on one keep-alive connection, `window` at a time, and resolves with the answers
 * received in order. Fewer answers than requests means the server closed the connection after the
 * last one (or, if none, never answered the first).
 */
function runConnection(
  port: number,
  requests: readonly RawRequestBytes[],
  window: number,
  timeoutMs: number,
): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ port, host: '127.0.0.1', noDelay: true });
    const answers: RawResponse[] = [];
    let data: Buffer = Buffer.alloc(0);
    let sent = 0;
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(answers);
    };
    const timer = setTimeout(
      () => finish(new Error(`no answer within ${timeoutMs} ms (${answers.length}/${requests.length})`)),
      timeoutMs,
    );
    const top = () => {
      const out: Buffer[] = [];
      while (sent < requests.length && sent - answers.length < window) {
        const inFlight = sent > answers.length;
        if (inFlight && (requests[sent]!.fence || requests[sent - 1]!.fence)) break;
        out.push(requests[sent]!.bytes);
        sent++;
      }
      if (out.length > 0) socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
    };
    socket.on('connect', top);
    socket.on('data', (chunk: Buffer) => {
      data = data.length === 0 ? chunk : Buffer.concat([data, chunk]);
      let start = 0;
      for (;;) {
        const end = responseEnd(data, start);
        if (end < 0) break;
        answers.push(parseResponse(Buffer.from(data.subarray(start, end))));
        start = end;
      }
      data = data.subarray(start);
      if (answers.length === requests.length) finish();
      else top();
    });
    socket.on('error', () => {
      // A reset after the server answered and closed: what arrived counts, the rest is sent again.
    });
    socket.on('close', () => {
      if (data.length > 0) {
        try {
          answers.push(parseResponse(Buffer.from(data)));
        } catch (error) {
          finish(error as Error);
          return;
        }
      }
      finish();
    });
  });
}

/** An answer that never came: the server closed the connection without a byte for this request. */
export const NO_ANSWER: RawResponse = Object.freeze({
  status: 0,
  headers: {},
  body: Buffer.alloc(0),
  json: undefined,
  empty: true,
});

/**
 * Sends every request over `connections` keep-alive connections (pipelined, `window` in flight each)
 * and returns the answers in request order. A request whose connection closed before it was answered
 * is sent again on a fresh connection; one that gets no answer even first on a connection is
 * {@link NO_ANSWER}.
 */
export async function pipelined(
  port: number,
  requests: readonly RawRequestBytes[],
  { connections = 4, window = 32, timeoutMs = 30_000 } = {},
): Promise<RawResponse[]> {
  const answers: RawResponse[] = new Array(requests.length);
  const share = Math.ceil(requests.length / connections);
  const lanes: Promise<void>[] = [];
  for (let lane = 0; lane < connections; lane++) {
    const from = lane * share;
    const to = Math.min(requests.length, from + share);
    if (from >= to) break;
    lanes.push(
      (async () => {
        let next = from;
        while (next < to) {
          const got = await runConnection(port, requests.slice(next, to), window, timeoutMs);
          if (got.length === 0) {
            answers[next] = NO_ANSWER;
            next += 1;
            continue;
          }
          for (const answer of got) answers[next++] = answer;
        }
      })(),
    );
  }
  await Promise.all(lanes);
  return answers;
}
