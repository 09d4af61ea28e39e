// A consumer project outside the workspace, built the way a user's app gets Gatehouse: every package
// is packed with `npm pack` and the tarballs are installed from files (real directories, no workspace
// symlinks) next to the frameworks from the registry. Shared by test/consumer/consumer.test.ts and
// bench/footprint.mjs. Plain JavaScript so that the benchmark runs it on Node without a build.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The environment for npm run from inside `npm test`: npm passes its configuration to scripts as
 * `npm_config_*` variables (the workspace's prefix among them), which a nested npm would obey and so
 * act on the workspace instead of the consumer project. Only the registry and the cache are kept.
 */
export function npmEnv() {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    const lower = key.toLowerCase();
    if (lower.startsWith('npm_') && !['npm_config_registry', 'npm_config_cache'].includes(lower)) continue;
    if (key === 'INIT_CWD') continue;
    env[key] = value;
  }
  return env;
}

function npm(args, options) {
  const result = spawnSync('npm', args, {
    encoding: 'utf8',
    env: npmEnv(),
    maxBuffer: 64 * 1024 * 1024,
    ...options,
  });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`npm ${args.join(' ')} failed (${result.status}):\n${result.stderr}\n${result.stdout}`);
  }
  return result.stdout;
}

/** Undefined when the npm registry answers (asked up to three times); otherwise why not. */
export function registryProblem(timeoutMs = 20_000) {
  let problem;
  for (let attempt = 0; attempt < 3; attempt++) {
    const result = spawnSync('npm', ['ping'], { encoding: 'utf8', env: npmEnv(), timeout: timeoutMs });
    if (result.error) problem = `npm ping: ${result.error.message}`;
    else if (result.status !== 0)
      problem = `npm ping exited ${result.status}: ${result.stderr.trim().split('\n').pop()}`;
    else return undefined;
  }
  return problem;
}

/** The published packages: `packages/*` directories. */
export function packageDirs() {
  return readdirSync(join(ROOT, 'packages'))
    .filter((name) => existsSync(join(ROOT, 'packages', name, 'package.json')))
    .map((name) => join('packages', name));
}

/** Builds the packages' dist (turbo: seconds when `npm test` has just built them). */
export function buildPackages(dirs = packageDirs()) {
  // `npm test` (test/run.mjs) builds everything before any test file runs and says so: building again
  // here would restore turbo's cached outputs while other test files read dist/ (the CLI's end-to-end
  // test once found dist/bin.js missing that way).
  if (process.env.GATEHOUSE_BUILT === '1') return;
  const result = spawnSync(
    join(ROOT, 'node_modules', '.bin', 'turbo'),
    ['run', 'build', '--output-logs=errors-only', ...dirs.map((dir) => `--filter=./${dir}`)],
    { cwd: ROOT, encoding: 'utf8', env: npmEnv(), maxBuffer: 64 * 1024 * 1024 },
  );
  if (result.status !== 0) throw new Error(`the build failed:\n${result.stdout}\n${result.stderr}`);
}

/**
 * `npm pack` of every package (or those in `dirs`) into `dest`, in one npm process. Returns the packed files as npm
 * reports them (name, filename, integrity, and the list of files in each tarball).
 */
export function packAll(dest, dirs = packageDirs()) {
  mkdirSync(dest, { recursive: true });
  const args = ['pack', '--json', '--pack-destination', dest];
  for (const dir of dirs) args.push('--workspace', dir);
  return JSON.parse(npm(args, { cwd: ROOT }));
}

/**
 * A consumer project in the system temporary directory with `tarballs` and `deps` (registry specs,
 * `name@range` or `alias@npm:name@range`) installed by one `npm install`. Reused when one with exactly
 * these inputs exists (the suite runs twice, on Node 20 and 24): its name is their hash.
 */
export function consumerProject(tarballs, deps, label = 'consumer') {
  const hash = createHash('sha256');
  for (const t of tarballs) hash.update(`${t.name}@${t.integrity}\n`);
  for (const d of deps) hash.update(`${d}\n`);
  const dir = join(tmpdir(), `gatehouse-${label}-${hash.digest('hex').slice(0, 16)}`);
  const done = join(dir, '.installed');
  if (existsSync(done)) {
    const now = new Date();
    utimesSync(dir, now, now); // in use: not pruned by another run
    return { dir, reused: true };
  }
  // Projects of earlier inputs (and their views) are not reused again: remove those over an hour old
  // (a younger one may be another run's, in use).
  const prefix = `gatehouse-${label}-`;
  for (const name of readdirSync(tmpdir())) {
    const path = join(tmpdir(), name);
    if (name.startsWith(prefix) && Date.now() - statSync(path).mtimeMs > 3_600_000) {
      rmSync(path, { recursive: true, force: true });
    }
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: label, private: true, type: 'module' }, null, 2)}\n`,
  );
  npm(
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--ignore-scripts',
      ...tarballs.map((t) => t.path),
      ...deps,
    ],
    { cwd: dir },
  );
  writeFileSync(done, new Date().toISOString());
  return { dir, reused: false };
}

/** Bytes of every file under `path` (apparent size) and what they take on disk (`du`'s blocks). */
export function sizeOf(path) {
  let bytes = 0;
  let disk = 0;
  const walk = (p) => {
    const stat = lstatSync(p);
    bytes += stat.isDirectory() ? 0 : stat.size;
    disk += stat.blocks * 512;
    if (stat.isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
  };
  walk(path);
  return { bytes, disk };
}

/**
 * The packages an install of `roots` brings, read from the project's installed tree
 * (`node_modules/.package-lock.json`): each root, its dependencies and non-optional peers (npm installs
 * those), and theirs, resolved as Node resolves them. Returns their install paths, names, and sizes.
 */
export function closureOf(dir, roots) {
  const lock = JSON.parse(readFileSync(join(dir, 'node_modules', '.package-lock.json'), 'utf8'));
  const entries = lock.packages;
  const resolve = (from, name) => {
    let base = from;
    for (;;) {
      const candidate = `${base === '' ? '' : `${base}/`}node_modules/${name}`;
      if (entries[candidate] !== undefined) return candidate;
      if (base === '') return undefined;
      const cut = base.lastIndexOf('/node_modules/');
      base = cut === -1 ? '' : base.slice(0, cut);
    }
  };
  const seen = new Set();
  const missing = [];
  const queue = roots.map((name) => {
    const found = resolve('', name);
    if (found === undefined) missing.push(name);
    return found;
  });
  while (queue.length > 0) {
    const path = queue.pop();
    if (path === undefined || seen.has(path)) continue;
    seen.add(path);
    const entry = entries[path];
    const optionalPeers = entry.peerDependenciesMeta ?? {};
    const wanted = [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...Object.keys(entry.peerDependencies ?? {}).filter((name) => optionalPeers[name]?.optional !== true),
    ];
    for (const name of wanted) {
      const found = resolve(path, name);
      if (found !== undefined) queue.push(found);
      else if (entry.optionalDependencies?.[name] === undefined) missing.push(`${name} (for ${path})`);
    }
  }
  const paths = [...seen].sort();
  let bytes = 0;
  let disk = 0;
  for (const path of paths) {
    // A package's own files, without the packages nested in its node_modules (counted on their own).
    const size = sizeWithoutNested(join(dir, path));
    bytes += size.bytes;
    disk += size.disk;
  }
  return {
    paths,
    names: paths.map((p) => p.slice(p.lastIndexOf('node_modules/') + 'node_modules/'.length)),
    bytes,
    disk,
    missing,
  };
}

function sizeWithoutNested(path) {
  let bytes = 0;
  let disk = 0;
  const walk = (p, top) => {
    const stat = lstatSync(p);
    disk += stat.blocks * 512;
    if (!stat.isDirectory()) {
      bytes += stat.size;
      return;
    }
    for (const name of readdirSync(p)) {
      if (top && name === 'node_modules') continue;
      walk(join(p, name), false);
    }
  };
  walk(path, true);
  return { bytes, disk };
}

/** Every installed package directory of the project (scoped ones included, nested ones too). */
export function installedPackages(dir) {
  const lock = JSON.parse(readFileSync(join(dir, 'node_modules', '.package-lock.json'), 'utf8'));
  return Object.keys(lock.packages).filter((p) => p !== '');
}

/** Whether `path` is a real directory (not a symlink into the workspace). */
export function isRealDirectory(path) {
  return lstatSync(path).isDirectory() && !lstatSync(path).isSymbolicLink() && statSync(path).isDirectory();
}

/**
 * A view of the project `dir` in `<dir>-<name>` (beside it, so that resolution cannot walk up into the
 * project's own node_modules) whose node_modules links to everything installed except
 * the Gatehouse packages not in `keep`: with Node's `--preserve-symlinks` (and TypeScript's
 * `preserveSymlinks`) modules resolve through the links, so the others are as good as not installed.
 * What an app that installed only `keep` sees, from the one install.
 */
export function projectView(dir, name, keep) {
  const view = `${dir}-${name}`;
  rmSync(view, { recursive: true, force: true });
  mkdirSync(join(view, 'node_modules', '@gatehousejs'), { recursive: true });
  for (const entry of readdirSync(join(dir, 'node_modules'))) {
    if (entry === '@gatehousejs') continue;
    symlinkSync(join(dir, 'node_modules', entry), join(view, 'node_modules', entry));
  }
  for (const pkg of keep) {
    const short = pkg.slice('@gatehousejs/'.length);
    symlinkSync(
      join(dir, 'node_modules', '@gatehousejs', short),
      join(view, 'node_modules', '@gatehousejs', short),
    );
  }
  writeFileSync(join(view, 'package.json'), `${JSON.stringify({ name, private: true, type: 'module' })}\n`);
  return view;
}
