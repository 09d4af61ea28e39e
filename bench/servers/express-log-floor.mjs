// Express 5 with a hand-written access log (pino, one line per request to a file, no Gatehouse):
// the candidate of express-access-log-floor, the least an access log costs.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import pino from 'pino';
import { reportListening } from '../lib/listening.mjs';

const logger = pino(
  pino.destination({ dest: join(tmpdir(), `gatehouse-bench-floor-${process.pid}.log`), sync: false }),
);
const app = express();
app.use((req, res, next) => {
  const start = performance.now();
  res.on('finish', () => {
    logger.info(
      { method: req.method, path: req.path, status: res.statusCode, duration_ms: performance.now() - start },
      'request',
    );
  });
  next();
});
app.get('/hello', (_req, res) => res.json({ hello: 'world' }));
reportListening(app.listen(0, '127.0.0.1'));
