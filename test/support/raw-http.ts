// A raw HTTP/1.1 client over a TCP socket: it sends bytes exactly as given, so tests can send what
// well-behaved clients refuse to (NUL bytes, bad encodings, oversized or forged headers).
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  /** Header name (lower case) → values in arrival order. */
  headers: Record<string, string[]>;
  body: Buffer;
  /** The body parsed as JSON when the content type says JSON, else undefined. */
  json: unknown;
  /** True when the server closed the connection without any response bytes. */
  empty: boolean;
}

export interface RawRequest {
  method?: string;
  /** The request target exactly as sent (not encoded for you). */
  path: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

/** Serialises a request; `Host: conformance.test` and `Connection: close` are added unless given. */
export function serialize(request: RawRequest): Buffer {
  const method = request.method ?? 'GET';
  const headers: Array<[string, string]> = [];
  const given = request.headers ?? {};
  const names = new Set(Object.keys(given).map((n) => n.toLowerCase()));
  if (!names.has('host')) headers.push(['host', 'conformance.test']);
  if (!names.has('connection')) headers.push(['connection', 'close']);
  for (const [name, value] of Object.entries(given)) {
    for (const v of Array.isArray(value) ? value : [value]) headers.push([name, v]);
  }
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  if (body && !names.has('content-length') && !names.has('transfer-encoding')) {
    headers.push(['content-length', String(body.length)]);
  }
  const head = `${method} ${request.path} HTTP/1.1\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  return body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

/** Sends raw bytes and reads the whole response (the connection is closed by the server). */
export function sendRaw(port: number, bytes: Buffer, timeoutMs = 5_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) => {
      // A reset after a complete response is still a response.
      if (chunks.length === 0) {
        clearTimeout(timer);
        reject(error);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (error) {
        reject(error);
      }
    });
    socket.write(bytes);
  });
}

export function request(port: number, req: RawRequest, timeoutMs?: number): Promise<RawResponse> {
  return sendRaw(port, serialize(req), timeoutMs);
}

export function parseResponse(data: Buffer): RawResponse {
  if (data.length === 0) return { status: 0, headers: {}, body: data, json: undefined, empty: true };
  const end = data.indexOf('\r\n\r\n');
  if (end === -1) throw new Error(`incomplete response head: ${JSON.stringify(data.toString('latin1'))}`);
  const lines = data.subarray(0, end).toString('latin1').split('\r\n');
  const statusLine = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (!statusLine) throw new Error(`bad status line: ${lines[0]}`);
  const headers: Record<string, string[]> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const values = headers[name] ?? [];
    values.push(line.slice(colon + 1).trim());
    headers[name] = values;
  }
  let body = data.subarray(end + 4);
  if (headers['transfer-encoding']?.some((v) => v.toLowerCase().includes('chunked'))) body = dechunk(body);
  else if (headers['content-length']) body = body.subarray(0, Number(headers['content-length'][0]));
  const type = headers['content-type']?.[0] ?? '';
  let json: unknown;
  if (/json/.test(type) && body.length > 0) json = JSON.parse(body.toString('utf8'));
  return { status: Number(statusLine[1]), headers, body, json, empty: false };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd === -1) break;
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
