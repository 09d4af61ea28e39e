import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { Exchange, Gateway, isGatehouseError } from '@gatehousejs/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bearerSchemes, readBearer } from './bearer.js';

// `x.y+z` holds token characters that mean something in a regular expression.
const TOKEN_SCHEMES = { scheme: ['Token', 'x.y+z'] };

import { refusalReason } from './errors.js';

// A real server: each request becomes a real Exchange and the handler answers with what readBearer
// made of it. Paths under /query enable the access_token query parameter.
let server: Server;
let port: number;

beforeAll(async () => {
  const gateway = new Gateway();
  server = createServer((req, res) => {
    const exchange = new Exchange(req, res, gateway);
    let body: unknown;
    try {
      const options = exchange.path.startsWith('/query')
        ? { query: 'access_token' }
        : exchange.path.startsWith('/token')
          ? TOKEN_SCHEMES
          : {};
      const token = readBearer(exchange, options);
      body = { token: token ?? null };
    } catch (error) {
      body = isGatehouseError(error)
        ? { code: error.code, status: error.status, reason: refusalReason(error), message: error.message }
        : { crash: String(error) };
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

// Raw bytes on a socket, so header case, repetition and spacing are exactly what the test says.
function send(target: string, headerLines: string[] = []): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      try {
        resolve(JSON.parse(body) as Record<string, unknown>);
      } catch {
        reject(new Error(`unexpected response: ${text.slice(0, 200)}`));
      }
    });
    const head = [`GET ${target} HTTP/1.1`, 'Host: test', ...headerLines, 'Connection: close', '', ''];
    socket.write(head.join('\r\n'), 'latin1');
  });
}

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

describe('readBearer: other schemes', () => {
  test('the configured schemes only, case-insensitive; Bearer is then another scheme', async () => {
    for (const scheme of ['Token', 'token', 'TOKEN', 'x.y+z', 'X.Y+Z'])
      expect(await send('/token', [`Authorization: ${scheme} ${TOKEN}`])).toEqual({ token: TOKEN });
    for (const other of ['Bearer', 'Tokens', 'x.yyz', 'xzy+z'])
      expect(await send('/token', [`Authorization: ${other} ${TOKEN}`])).toEqual({ token: null });
    expect(await send('/token', ['Authorization: Token'])).toMatchObject({ reason: 'malformed' });
    expect(await send('/token', ['Authorization: Token\tabc'])).toMatchObject({ reason: 'malformed' });
  });

  test('a scheme that is not a token is a TypeError', () => {
    expect(() => bearerSchemes('To ken')).toThrow(TypeError);
    expect(() => bearerSchemes([])).toThrow(TypeError);
    expect(bearerSchemes(undefined)).toEqual(['Bearer']);
    expect(bearerSchemes('Token')).toEqual(['Token']);
  });
});

describe('readBearer: Authorization header', () => {
  test('no header, or another scheme, is not our credential', async () => {
    expect(await send('/')).toEqual({ token: null });
    expect(await send('/', ['Authorization: Basic dXNlcjpwYXNz'])).toEqual({ token: null });
    expect(await send('/', ['Authorization: Bearerish abc'])).toEqual({ token: null });
    expect(await send('/', ['Authorization: DPoP abc'])).toEqual({ token: null });
  });

  test('scheme is case-insensitive and the token is returned verbatim', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      expect(await send('/', [`Authorization: ${scheme} ${TOKEN}`])).toEqual({ token: TOKEN });
    }
    expect(await send('/', [`authorization: Bearer ${TOKEN}`])).toEqual({ token: TOKEN });
    // 1*SP between scheme and token (RFC 6750 §2.1).
    expect(await send('/', [`Authorization: Bearer    ${TOKEN}`])).toEqual({ token: TOKEN });
    // token68 allows these characters and trailing '='.
    expect(await send('/', ['Authorization: Bearer a-b.c_d~e+f/g=='])).toEqual({ token: 'a-b.c_d~e+f/g==' });
  });

  test.each([
    ['empty token', 'Bearer'],
    ['only spaces', 'Bearer    '],
    ['tab separator', 'Bearer\tabc'],
    ['inner space', 'Bearer abc def'],
    ['comma', 'Bearer abc,def'],
    ['quote', 'Bearer "abc"'],
    ['padding in the middle', 'Bearer ab=c'],
    ['only padding', 'Bearer ==='],
  ])('malformed: %s → AuthInvalid/malformed', async (_name, value) => {
    const result = await send('/', [`Authorization: ${value}`]);
    expect(result).toMatchObject({ code: 'GH_AUTH_INVALID', status: 401, reason: 'malformed' });
  });

  test('a header sent twice is a conflict, even with identical values and different name case', async () => {
    const twice = await send('/', [`Authorization: Bearer ${TOKEN}`, 'Authorization: Bearer other']);
    expect(twice).toMatchObject({ code: 'GH_AUTH_CONFLICT', status: 400, reason: 'conflict' });
    const same = await send('/', [`Authorization: Bearer ${TOKEN}`, `AUTHORIZATION: Bearer ${TOKEN}`]);
    expect(same).toMatchObject({ code: 'GH_AUTH_CONFLICT', reason: 'conflict' });
    const mixed = await send('/', ['Authorization: Basic dXNlcjpwYXNz', `authorization: Bearer ${TOKEN}`]);
    expect(mixed).toMatchObject({ code: 'GH_AUTH_CONFLICT' });
  });

  test('refusal messages never contain the token', async () => {
    const secret = 'SECRETabc def';
    const result = await send('/', [`Authorization: Bearer ${secret}`]);
    expect(result.reason).toBe('malformed');
    expect(String(result.message)).not.toContain('SECRET');
    const both = await send('/query?access_token=SECRETq', ['Authorization: Bearer SECRETh']);
    expect(both.reason).toBe('conflict');
    expect(String(both.message)).not.toContain('SECRET');
  });
});

describe('readBearer: query parameter (RFC 6750 §2.3)', () => {
  test('ignored unless enabled', async () => {
    expect(await send(`/plain?access_token=${TOKEN}`)).toEqual({ token: null });
  });

  test('read when enabled; decoded as form data', async () => {
    expect(await send(`/query?access_token=${TOKEN}`)).toEqual({ token: TOKEN });
    expect(await send('/query?access_token=a%2Bb%2F%3D')).toEqual({ token: 'a+b/=' });
    expect(await send('/query?other=1')).toEqual({ token: null });
  });

  test('empty or malformed query token → malformed', async () => {
    expect(await send('/query?access_token=')).toMatchObject({ reason: 'malformed' });
    // '+' in a form-encoded query is a space.
    expect(await send('/query?access_token=a+b')).toMatchObject({ reason: 'malformed' });
  });

  test('header and query: identical values count once, different values conflict', async () => {
    expect(await send(`/query?access_token=${TOKEN}`, [`Authorization: Bearer ${TOKEN}`])).toEqual({
      token: TOKEN,
    });
    expect(await send('/query?access_token=other', [`Authorization: Bearer ${TOKEN}`])).toMatchObject({
      code: 'GH_AUTH_CONFLICT',
      reason: 'conflict',
    });
  });

  test('the parameter twice: identical values count once, different values conflict', async () => {
    expect(await send(`/query?access_token=${TOKEN}&access_token=${TOKEN}`)).toEqual({ token: TOKEN });
    expect(await send(`/query?access_token=${TOKEN}&access_token=x`)).toMatchObject({ reason: 'conflict' });
  });

  test('another scheme in the header does not hide the query token', async () => {
    expect(await send(`/query?access_token=${TOKEN}`, ['Authorization: Basic dXNlcjpwYXNz'])).toEqual({
      token: TOKEN,
    });
  });

  test('a malformed Bearer header is refused even when the query carries a token', async () => {
    expect(await send(`/query?access_token=${TOKEN}`, ['Authorization: Bearer'])).toMatchObject({
      reason: 'malformed',
    });
  });
});
