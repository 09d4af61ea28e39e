// Express 5 + one plain middleware that only calls next() (no Gatehouse): the candidate of
// express-next-floor, what any one middleware costs Express before it does anything.
import express from 'express';
import { reportListening } from '../lib/listening.mjs';

const app = express();
app.use((_req, _res, next) => next());
app.get('/hello', (_req, res) => res.json({ hello: 'world' }));
const server = app.listen(0, '127.0.0.1');
reportListening(server);
