// Express 5 with a hand-written limiter and its RateLimit fields (no Gatehouse): the candidate of
// express-rate-limit-floor.
import express from 'express';
import { POLICY, spend } from '../lib/hand-limiter.mjs';
import { reportListening } from '../lib/listening.mjs';

const app = express();
app.use((req, res, next) => {
  const field = spend(req.socket.remoteAddress ?? '');
  if (field === undefined) return void res.status(429).end();
  res.setHeader('ratelimit-policy', POLICY);
  res.setHeader('ratelimit', field);
  next();
});
app.get('/hello', (_req, res) => res.json({ hello: 'world' }));
reportListening(app.listen(0, '127.0.0.1'));
