// Express 5 with a gateway built in code: request ids, the admin, auth (API keys; the route is open),
// a memory rate limit and a route table whose one route is local — mounted method by method. The
// baseline of express-config-file: the same gateway from a configuration file.
import { apiKeyAuthenticator } from '@gatehousejs/auth';
import { gateway } from '@gatehousejs/express';
import express from 'express';
import { reportListening } from '../lib/listening.mjs';

const gw = gateway({ admin: { access: { peers: ['loopback'] } } });
const app = express();
app.use(gw.requestId());
app.use(gw.admin());
app.use(
  gw.auth({
    methods: [apiKeyAuthenticator({ keys: [{ id: 'ops', key: 'bench-key-0123456789' }] })],
    default: 'anonymous',
  }),
);
app.use(gw.rateLimit({ limits: [{ points: 1_000_000_000, duration: 60 }] }));
app.use(gw.routes({ table: [{ name: 'orders', path: '/orders/*', mode: 'local' }] }));
app.get('/hello', (_req, res) => res.json({ hello: 'world' }));
app.use(gw.errors());
reportListening(gw.serve(app.listen(0, '127.0.0.1')));
