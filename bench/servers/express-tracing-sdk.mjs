// Express 5 + Gatehouse tracing-sdk: the candidate of express-tracing-sdk.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gateway } from '@gatehouse/express';
import express from 'express';
import { reportListening } from '../lib/listening.mjs';
import { registerSdk } from '../lib/otel-sdk.mjs';

const variant = 'tracing-sdk';
if (variant === 'tracing-sdk') registerSdk();
const gw = gateway({});
const app = express();
if (variant === 'access-log')
  app.use(gw.accessLog({ destination: join(tmpdir(), `gatehouse-bench-${process.pid}.log`) }));
else app.use(gw.tracing());
app.get('/hello', (_req, res) => res.json({ hello: 'world' }));
reportListening(app.listen(0, '127.0.0.1'));
