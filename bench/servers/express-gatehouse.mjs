// Express 5 + Gatehouse request ids and problem+json errors: the candidate of express-request-id.
import { gateway } from '@gatehousejs/express';
import express from 'express';
import { reportListening } from '../lib/listening.mjs';

const gw = gateway({});
const app = express();
app.use(gw.requestId());
app.get('/hello', (_req, res) => res.json({ hello: 'world' }));
app.use(gw.errors());
const server = app.listen(0, '127.0.0.1');
gw.serve(server);
reportListening(server);
