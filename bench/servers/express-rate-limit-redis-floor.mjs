// Express 5 with a hand-written Redis limiter and its RateLimit fields (no Gatehouse): the candidate
// of express-rate-limit-redis-floor.
import express from 'express';
import { POLICY, spend } from '../lib/hand-redis-limiter.mjs';
import { reportListening } from '../lib/listening.mjs';

const app = express();
app.use((req, res, next) => {
  spend(req.socket.remoteAddress ?? '').then(
    (field) => {
      if (field === undefined) return void res.status(429).end();
      res.setHeader('ratelimit-policy', POLICY);
      res.setHeader('ratelimit', field);
      next();
    },
    () => res.status(503).end(),
  );
});
app.get('/hello', (_req, res) => res.json({ hello: 'world' }));
reportListening(app.listen(0, '127.0.0.1'));
