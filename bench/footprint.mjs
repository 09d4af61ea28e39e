#!/usr/bin/env node
// Install footprint and import time of a typical Gatehouse app (issue 16), against bare Express in the
// same run. Every package is packed (`npm pack`); a project outside the workspace gets exactly what
// `npm install @gatehousejs/express @gatehousejs/auth express` would give a user (the tarballs that
// install pulls in, no optional peer), another gets Express alone. Reported: packages installed, their
// size (sum of file sizes, as npm's "unpacked size"; and what `du` counts on this filesystem), copies of
// each @opentelemetry package, and import times measured in fresh processes, alternating the sides.
//
//   node bench/footprint.mjs [--runs 21] [--no-build] [--with @gatehousejs/routes]
//
// Prints one JSON line. Not appended to RESULTS.md automatically: the footprint section there is
// written from this output.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildPackages,
  consumerProject,
  installedPackages,
  packAll,
  packageDirs,
  ROOT,
  sizeOf,
} from '../test/consumer/project.mjs';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 21;
const EXPRESS = 'express@^5.1.0';
/** What the typical app's install line names (the adapter, and auth for its authenticators). */
const TYPICAL = ['@gatehousejs/express', '@gatehousejs/auth'];
// `--with @gatehousejs/routes` (repeatable): a typical app that also uses that package.
for (let i = args.indexOf('--with'); i !== -1; i = args.indexOf('--with', i + 1)) TYPICAL.push(args[i + 1]);

const tarballDir = mkdtempSync(join(tmpdir(), 'gatehouse-footprint-'));
try {
  const manifests = new Map(
    packageDirs().map((dir) => {
      const manifest = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8'));
      return [manifest.name, manifest];
    }),
  );
  // The Gatehouse packages that installing TYPICAL brings: dependencies and non-optional peers.
  const needed = new Set();
  const queue = [...TYPICAL];
  while (queue.length > 0) {
    const name = queue.pop();
    if (needed.has(name)) continue;
    needed.add(name);
    const m = manifests.get(name);
    const optional = m.peerDependenciesMeta ?? {};
    for (const dep of [
      ...Object.keys(m.dependencies ?? {}),
      ...Object.keys(m.peerDependencies ?? {}).filter((d) => optional[d]?.optional !== true),
    ]) {
      if (manifests.has(dep)) queue.push(dep);
    }
  }
  const dirs = [...needed].map((name) => `packages/${name.slice('@gatehousejs/'.length)}`);
  if (!args.includes('--no-build')) buildPackages(dirs);
  const byName = new Map(packAll(tarballDir, dirs).map((p) => [p.name, p]));
  const tarballs = [...needed].sort().map((name) => {
    const p = byName.get(name);
    return { name, integrity: p.integrity, path: join(tarballDir, p.filename) };
  });
  const bare = consumerProject([], [EXPRESS], 'footprint-bare');
  // The app under measurement imports what it names (bench/footprint's TYPICAL): a project of its own.
  const typical = consumerProject(tarballs, [EXPRESS], 'footprint-typical');

  const measure = (dir) => {
    const paths = installedPackages(dir);
    const size = sizeOf(join(dir, 'node_modules'));
    return { packages: paths.length, bytes: size.bytes, disk: size.disk, paths };
  };
  const b = measure(bare.dir);
  const t = measure(typical.dir);
  const otel = {};
  for (const path of t.paths) {
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    if (name.startsWith('@opentelemetry/')) otel[name] = (otel[name] ?? 0) + 1;
  }

  // Import times, in fresh processes, the sides alternating so that load on the machine hits both.
  const sides = {
    express: "await import('express');",
    gatehouse: "await import('@gatehousejs/express');",
    'express app':
      "const { default: express } = await import('express'); const app = express(); app.get('/hello', (q, s) => s.json({})); app.listen(0).close();",
    'typical app': `const { default: express } = await import('express');
      const { gateway } = await import('@gatehousejs/express');
      const { apiKeyAuthenticator } = await import('@gatehousejs/auth');
      const gw = gateway({});
      const app = express();
      app.use(gw.tracing());
      app.use(gw.requestId());
      app.use(gw.auth({ methods: [apiKeyAuthenticator({ keys: [{ key: 'k'.repeat(32), id: 'a' }] })] }));
      app.use(gw.rateLimit({ limits: [{ points: 100, duration: '1m' }] }));
      app.get('/hello', (q, s) => s.json({}));
      app.use(gw.errors());
      gw.serve(app.listen(0)); await gw.close();`,
  };
  const samples = Object.fromEntries(Object.keys(sides).map((k) => [k, { wall: [], cpu: [] }]));
  for (let i = 0; i < runs; i++) {
    for (const [side, code] of Object.entries(sides)) {
      const script = `const c0 = process.cpuUsage(); const t0 = performance.now(); ${code}
        const c = process.cpuUsage(c0); process.stdout.write(JSON.stringify({ wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 }));`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: typical.dir,
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`${side}: ${r.stderr}`);
      const { wall, cpu } = JSON.parse(r.stdout);
      samples[side].wall.push(wall);
      samples[side].cpu.push(cpu);
    }
  }
  const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
  const times = Object.fromEntries(
    Object.entries(samples).map(([side, s]) => [
      side,
      { wallMs: +median(s.wall).toFixed(1), cpuMs: +median(s.cpu).toFixed(1) },
    ]),
  );
  const mb = (n) => +(n / 1024 / 1024).toFixed(1);
  const result = {
    bench: 'footprint',
    node: process.version,
    typical: TYPICAL,
    gatehousePackages: [...needed].sort(),
    express: { packages: b.packages, mb: mb(b.bytes), duMb: mb(b.disk) },
    withGatehouse: { packages: t.packages, mb: mb(t.bytes), duMb: mb(t.disk) },
    beyondExpress: {
      packages: t.packages - b.packages,
      mb: mb(t.bytes - b.bytes),
      duMb: mb(t.disk - b.disk),
    },
    opentelemetryCopies: otel,
    importMs: times,
    importRatio: {
      wall: +(times.gatehouse.wallMs / times.express.wallMs).toFixed(2),
      cpu: +(times.gatehouse.cpuMs / times.express.cpuMs).toFixed(2),
    },
    appRatio: {
      wall: +(times['typical app'].wallMs / times['express app'].wallMs).toFixed(2),
      cpu: +(times['typical app'].cpuMs / times['express app'].cpuMs).toFixed(2),
    },
    runs,
    budget: { packages: 25, mb: 15, duMb: 15, importRatio: 2 },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  rmSync(tarballDir, { recursive: true, force: true });
}
