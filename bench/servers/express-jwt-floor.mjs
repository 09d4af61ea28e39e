// Express 5 with a hand-written bearer check (no Gatehouse): the token verified once with jose, then
// answered from a Map keyed by the token — the candidate of express-auth-jwt-floor, the least a cached
// JWT check costs Express here.
import express from 'express';
import { importJWK, jwtVerify } from 'jose';
import { AUDIENCE, ISSUER } from '../lib/auth-fixture.mjs';
import { reportListening } from '../lib/listening.mjs';

const key = await importJWK(JSON.parse(process.env.GATEHOUSE_BENCH_JWK ?? 'null'), 'RS256');
const verified = new Map();
const app = express();
app.use((req, res, next) => {
  const header = req.headers.authorization;
  const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
  if (token === undefined) return void res.status(401).end();
  const hit = verified.get(token);
  if (hit !== undefined && hit.exp * 1000 > Date.now()) {
    req.user = hit;
    return next();
  }
  jwtVerify(token, key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['RS256'] }).then(
    ({ payload }) => {
      verified.set(token, payload);
      req.user = payload;
      next();
    },
    () => res.status(401).end(),
  );
});
app.get('/hello', (_req, res) => res.json({ hello: 'world' }));
reportListening(app.listen(0, '127.0.0.1'));
