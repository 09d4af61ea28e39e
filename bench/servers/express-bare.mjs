// Bare Express 5: the baseline of the Express benchmarks (and both sides of self-check).
import express from 'express';
import { reportListening } from '../lib/listening.mjs';

const app = express();
app.get('/hello', (_req, res) => res.json({ hello: 'world' }));
const server = app.listen(0, '127.0.0.1');
reportListening(server);
