// Express 5 with Gatehouse imported and a gateway made but not mounted; one plain next() middleware,
// as in express-next-floor: the candidate of express-loaded-floor. It does no Gatehouse work per
// request, so its ratio is what loading the packages alone does to a minimal app (see RESULTS.md).
import { gateway } from '@gatehousejs/express';
import express from 'express';
import { reportListening } from '../lib/listening.mjs';

const gw = gateway({});
gw.use({ name: 'unused' });
const app = express();
app.use((_req, _res, next) => next());
app.get('/hello', (_req, res) => res.json({ hello: 'world' }));
reportListening(app.listen(0, '127.0.0.1'));
