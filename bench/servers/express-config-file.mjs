// Express 5 with the gateway of express-config-code built from a YAML file: gatewayFromFile() and
// gw.mount(app), one middleware that runs each request on the configuration's current generation.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayFromFile } from '@gatehousejs/express';
import express from 'express';
import { reportListening } from '../lib/listening.mjs';

const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-bench-')), 'gatehouse.yaml');
writeFileSync(
  file,
  `
admin: { access: { peers: [loopback] } }
auth:
  methods: [{ apiKey: { keys: [{ id: ops, key: bench-key-0123456789 }] } }]
  default: anonymous
rateLimit: { limits: [{ points: 1000000000, duration: 60 }] }
routes:
  - { name: orders, path: /orders/*, mode: local }
`,
);
const gw = await gatewayFromFile(file, { watch: false });
const app = express();
gw.mount(app);
app.get('/hello', (_req, res) => res.json({ hello: 'world' }));
app.use(gw.errors());
reportListening(gw.serve(app.listen(0, '127.0.0.1')));
