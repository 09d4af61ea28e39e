// Express 5 with a hand-written request-id middleware: the candidate of express-request-id-floor.
import express from 'express';
import { assignRequestId } from '../lib/hand-request-id.mjs';
import { reportListening } from '../lib/listening.mjs';

const app = express();
app.use((req, res, next) => {
  assignRequestId(req, res);
  next();
});
app.get('/hello', (_req, res) => res.json({ hello: 'world' }));
reportListening(app.listen(0, '127.0.0.1'));
