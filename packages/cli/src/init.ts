// `gatehouse init`: sets Gatehouse up in an existing Express or Koa project. It finds the framework
// and its version, the module system and TypeScript, and the file that makes the app; writes a
// starter gatehouse.yaml; then prints the few lines to add, or adds them with --write.
//
// The lines are placed by looking for three statements (the framework's import, `const app =
// express()` / `new Koa()`, and `app.listen(…)`) rather than by parsing the program: a parser of
// every JavaScript and TypeScript dialect apps are written in would weigh more than this whole
// package, and when a statement is not found the command changes nothing and prints the lines
// instead, saying where each goes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import type pc from 'picocolors';
import semver from 'semver';
import { CliError, type Io } from './io.js';

type Colors = ReturnType<typeof pc.createColors>;

export interface InitOptions {
  dir?: string;
  write?: boolean;
  framework?: 'express' | 'koa';
  /** The app's file, when it cannot be found. */
  entry?: string;
  /** Overwrite an existing gatehouse.yaml. */
  force?: boolean;
  json?: boolean;
}

/** What `init` found about the project. */
export interface Project {
  readonly dir: string;
  readonly name: string;
  readonly framework: 'express' | 'koa';
  /** The installed version, else the lowest the range in package.json allows. */
  readonly version: string;
  readonly major: number;
  readonly module: 'esm' | 'commonjs';
  readonly typescript: boolean;
  /** The file that makes the app, relative to `dir`. */
  readonly entry: string | undefined;
}

const SUPPORTED = { express: { 4: '4.21.0', 5: '5.0.0' }, koa: { 2: '2.15.0', 3: '3.0.0' } } as const;
const ENTRY_CANDIDATES = [
  'src/app.ts',
  'src/server.ts',
  'src/index.ts',
  'src/main.ts',
  'app.ts',
  'server.ts',
  'index.ts',
  'src/app.js',
  'src/server.js',
  'src/index.js',
  'app.js',
  'server.js',
  'index.js',
  'app.mjs',
  'server.mjs',
  'index.mjs',
  'app.cjs',
  'server.cjs',
  'index.cjs',
];

/** Reads the project in `dir`; throws a CliError that says what to do when it cannot tell. */
export function detectProject(dir: string, options: Pick<InitOptions, 'framework' | 'entry'> = {}): Project {
  const manifestPath = join(dir, 'package.json');
  if (!existsSync(manifestPath))
    throw new CliError(
      `No package.json in ${dir}: run gatehouse init in your project's root, or pass --dir.`,
    );
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new CliError(`${manifestPath} is not valid JSON (${(error as Error).message}).`);
  }
  const deps = {
    ...(manifest.devDependencies as Record<string, string> | undefined),
    ...(manifest.dependencies as Record<string, string> | undefined),
  };
  const found = (['express', 'koa'] as const).filter((f) => deps[f] !== undefined);
  const framework = options.framework ?? (found.length === 1 ? found[0] : undefined);
  if (framework === undefined) {
    throw new CliError(
      found.length === 0
        ? `Neither express nor koa is a dependency in ${manifestPath}. Gatehouse runs inside an Express (4.21+, 5) or Koa (2.15+, 3) app: add one, or pass --framework.`
        : `Both express and koa are dependencies in ${manifestPath}: pass --framework express or --framework koa.`,
    );
  }
  const version = installedVersion(dir, framework) ?? semver.minVersion(deps[framework] ?? '')?.version;
  if (version === undefined)
    throw new CliError(
      `Cannot tell which ${framework} version ${deps[framework] ?? '(none)'} means: install it (npm install) and run gatehouse init again.`,
    );
  const major = semver.major(version);
  const floor = (SUPPORTED[framework] as Record<number, string>)[major];
  if (floor === undefined || semver.lt(version, floor)) {
    const supported = framework === 'express' ? 'Express 4.21+ and 5' : 'Koa 2.15+ and 3';
    throw new CliError(
      `${framework} ${version} is not supported: Gatehouse runs on ${supported}. Upgrade it, then run gatehouse init again.`,
    );
  }
  const entry = options.entry ?? findEntry(dir, manifest);
  const typescript =
    existsSync(join(dir, 'tsconfig.json')) ||
    deps.typescript !== undefined ||
    (entry?.endsWith('.ts') ?? false);
  const module =
    entry?.endsWith('.mjs') === true || (manifest.type === 'module' && entry?.endsWith('.cjs') !== true)
      ? 'esm'
      : 'commonjs';
  return {
    dir,
    name: typeof manifest.name === 'string' ? manifest.name : 'this project',
    framework,
    version,
    major,
    module,
    typescript,
    entry,
  };
}

function installedVersion(dir: string, name: string): string | undefined {
  try {
    const require = createRequire(join(dir, 'package.json'));
    const manifest = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as {
      version?: string;
    };
    return manifest.version;
  } catch {
    return undefined;
  }
}

function findEntry(dir: string, manifest: Record<string, unknown>): string | undefined {
  const scripts = (manifest.scripts as Record<string, string> | undefined) ?? {};
  const fromScript =
    /\b(?:node|nodemon|tsx|ts-node|ts-node-dev|bun)\s+(?:--?\S+\s+)*([\w./-]+\.[cm]?[jt]s)\b/.exec(
      scripts.start ?? scripts.dev ?? '',
    )?.[1];
  const candidates = [
    ...(typeof manifest.main === 'string' ? [manifest.main] : []),
    ...(fromScript === undefined ? [] : [fromScript]),
    ...ENTRY_CANDIDATES,
  ];
  const makesApp = /\bexpress\s*\(\s*\)|\bnew\s+Koa\s*\(/;
  const existing = candidates.map((c) => c.replace(/^\.\//, '')).filter((c) => existsSync(join(dir, c)));
  return existing.find((c) => makesApp.test(readFileSync(join(dir, c), 'utf8'))) ?? existing[0];
}

// ---------------------------------------------------------------------------------------------
// The starter configuration and the lines to add
// ---------------------------------------------------------------------------------------------

/** The starter configuration, commented, for this project. */
export function starterConfig(project: Project, port: number | undefined): string {
  const framework = `${project.framework === 'express' ? 'Express' : 'Koa'} ${project.version}`;
  const kind = `${project.typescript ? 'TypeScript, ' : ''}${project.module === 'esm' ? 'ES modules' : 'CommonJS'}`;
  return `# yaml-language-server: $schema=./node_modules/@gatehousejs/gateway/gatehouse.schema.json
# Gatehouse for ${project.name} (${framework}, ${kind}), written by gatehouse init.
# Check it with: npx gatehouse validate gatehouse.yaml — every key: docs/configuration.md in Gatehouse.
${port === undefined ? '' : `\n# The port your app listens on (gw.listen(app) uses it; app.listen(${port}) keeps working as it is).\nserver:\n  port: ${port}\n`}
# Request ids: a well-formed incoming x-request-id is kept, otherwise one is made; echoed back.
requestId:
  header: x-request-id

# /health and /ready answer everyone. /routes, /migration and /config (and the write API that
# \`gatehouse promote\` uses) answer only callers admin.access admits: here, this machine.
admin:
  prefix: /_gatehouse
  access:
    peers: [loopback]

# Services your routes can move to, by name:
# services:
#   orders:
#     url: \${ORDERS_URL:-http://127.0.0.1:8081}

# Routes, matched in order. Start in shadow mode, then: gatehouse promote orders
# routes:
#   - name: orders
#     path: /orders/*
#     service: orders
#     mode: shadow
#     gates: { maxDiffRate: 0.05, maxErrorRateDelta: 0.02 }

# rateLimit:
#   limits: [{ points: 100, duration: 1m }]
`;
}

interface Edit {
  /** What the line does, for people. */
  readonly why: string;
  readonly code: string;
  /** Where it goes, for people. */
  readonly where: string;
}

/** The lines to add to the app's file, in order. */
export function linesFor(project: Project, app = 'app'): Edit[] {
  const pkg = `@gatehousejs/${project.framework}`;
  const esm = project.typescript || project.module === 'esm';
  const importLine = esm
    ? `import { gatewayFromFileSync } from '${pkg}';`
    : `const { gatewayFromFileSync } = require('${pkg}');`;
  const framework = project.framework === 'express' ? 'express' : 'koa';
  const edits: Edit[] = [
    { why: 'Gatehouse', code: importLine, where: `after the import of ${framework}` },
    {
      why: 'the gateway gatehouse.yaml describes (read from the directory the app starts in)',
      code: "const gw = gatewayFromFileSync('gatehouse.yaml');",
      where: `after ${project.framework === 'express' ? `const ${app} = express()` : `const ${app} = new Koa()`}`,
    },
    {
      why:
        project.framework === 'express'
          ? 'everything it describes, before your routes'
          : 'its error handler and everything it describes, before your middleware',
      code: `gw.mount(${app});`,
      where: 'right after that',
    },
  ];
  if (project.framework === 'express')
    edits.push({
      why: '404s and errors as problem+json, after your routes',
      code: `${app}.use(gw.errors());`,
      where: `before ${app}.listen(…)`,
    });
  edits.push({
    why: 'bad requests answered, graceful shutdown, the gateway started',
    code: `gw.serve(${app}.listen(…));`,
    where: `instead of ${app}.listen(…)`,
  });
  return edits;
}

/** Adds the lines to `source`; undefined (and what is missing) when a statement was not found. */
export function addLines(source: string, project: Project): { text: string } | { missing: string[] } {
  const newline = source.includes('\r\n') ? '\r\n' : '\n';
  const lines = source.split(/\r?\n/);
  const missing: string[] = [];
  const frameworkImport = new RegExp(
    project.framework === 'express'
      ? String.raw`(?:require\(\s*['"]express['"]\s*\)|from\s+['"]express['"])`
      : String.raw`(?:require\(\s*['"]koa['"]\s*\)|from\s+['"]koa['"])`,
  );
  const importAt = lines.findIndex((l) => frameworkImport.test(l));
  if (importAt === -1) missing.push(`the import of ${project.framework}`);
  const makeApp =
    project.framework === 'express'
      ? /^(\s*)(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)(?:\s*:\s*[\w.<>]+)?\s*=\s*express\s*\(\s*\)/
      : /^(\s*)(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)(?:\s*:\s*[\w.<>]+)?\s*=\s*new\s+Koa\s*(?:<[^>]*>)?\s*\(/;
  const appAt = lines.findIndex((l) => makeApp.test(l));
  if (appAt === -1)
    missing.push(project.framework === 'express' ? 'const app = express()' : 'const app = new Koa()');
  const [, indent = '', app = 'app'] = appAt === -1 ? [] : (makeApp.exec(lines[appAt]!) ?? []);
  const listen = source.search(new RegExp(String.raw`\b${app.replace(/\$/g, '\\$')}\.listen\s*\(`));
  if (listen === -1) missing.push(`${app}.listen(…)`);
  if (missing.length > 0) return { missing };

  const edits = linesFor(project, app);
  // From the end backwards, so that earlier offsets stay right: listen, then the app, then the import.
  let text = source;
  const callEnd = closingParen(text, text.indexOf('(', listen));
  if (callEnd === undefined) return { missing: [`the end of ${app}.listen(…)`] };
  text = `${text.slice(0, listen)}gw.serve(${text.slice(listen, callEnd + 1)})${text.slice(callEnd + 1)}`;
  if (project.framework === 'express') {
    const lineStart = text.lastIndexOf('\n', listen) + 1;
    const listenIndent = /^\s*/.exec(text.slice(lineStart))?.[0] ?? '';
    text = `${text.slice(0, lineStart)}${listenIndent}${app}.use(gw.errors()); // Gatehouse: 404s and errors as problem+json${newline}${text.slice(lineStart)}`;
  }
  const out = text.split(/\r?\n/);
  out.splice(appAt + 1, 0, `${indent}${edits[1]!.code} // Gatehouse`, `${indent}gw.mount(${app});`);
  out.splice(importAt + 1, 0, edits[0]!.code);
  return { text: out.join(newline) };
}

/** The index of the `)` closing the `(` at `open`, skipping strings and comments. */
function closingParen(text: string, open: number): number | undefined {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' || c === "'" || c === '`') {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\') i++;
    } else if (c === '/' && text[i + 1] === '/') {
      i = text.indexOf('\n', i);
      if (i === -1) return undefined;
    } else if (c === '/' && text[i + 1] === '*') {
      i = text.indexOf('*/', i + 2);
      if (i === -1) return undefined;
      i++;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return undefined;
}

/** Runs the command; returns the exit code. */
export function initCommand(options: InitOptions, io: Io, colors: Colors): number {
  const dir = resolve(io.cwd, options.dir ?? '.');
  const project = detectProject(dir, options);
  const configPath = join(dir, 'gatehouse.yaml');
  const source = project.entry === undefined ? undefined : readFileSync(join(dir, project.entry), 'utf8');
  if (source !== undefined && /@gatehousejs\/(?:express|koa)/.test(source))
    throw new CliError(
      `${project.entry} already uses Gatehouse: nothing to do. Check the configuration with: npx gatehouse validate gatehouse.yaml`,
    );
  const port = source === undefined ? undefined : listenPort(source);
  const wroteConfig = !existsSync(configPath) || options.force === true;
  if (wroteConfig) writeFileSync(configPath, starterConfig(project, port));

  const appName =
    source === undefined
      ? 'app'
      : (/(?:const|let|var)\s+([A-Za-z_$][\w$]*)(?:\s*:\s*[\w.<>]+)?\s*=\s*(?:express\s*\(|new\s+Koa)/.exec(
          source,
        )?.[1] ?? 'app');
  let written = false;
  let missing: string[] = [];
  if (options.write === true) {
    if (project.entry === undefined || source === undefined)
      missing = ['the file that makes the app (pass --entry)'];
    else {
      const edited = addLines(source, project);
      if ('text' in edited) {
        writeFileSync(join(dir, project.entry), edited.text);
        written = true;
      } else missing = edited.missing;
    }
  }
  const install = `npm install @gatehousejs/${project.framework}`;
  if (options.json) {
    io.stdout.write(
      `${JSON.stringify({ project, config: relative(io.cwd, configPath) || 'gatehouse.yaml', wroteConfig, written, missing, install, lines: linesFor(project, appName) }, null, 2)}\n`,
    );
    return missing.length > 0 ? 1 : 0;
  }
  const out = (text = '') => io.stdout.write(`${text}\n`);
  out(
    `Found ${colors.bold(project.framework === 'express' ? `Express ${project.version}` : `Koa ${project.version}`)} (${project.typescript ? 'TypeScript, ' : ''}${project.module === 'esm' ? 'ES modules' : 'CommonJS'})${project.entry === undefined ? '' : ` in ${project.entry}`}.`,
  );
  out(
    wroteConfig
      ? `${colors.green('✓')} wrote gatehouse.yaml (a starter configuration: request ids, the admin on loopback)`
      : `${colors.yellow('•')} gatehouse.yaml exists: left as it is (--force writes the starter over it)`,
  );
  if (written) {
    out(`${colors.green('✓')} added Gatehouse to ${project.entry}`);
  } else {
    if (missing.length > 0) {
      io.stderr.write(
        `${colors.red('✗')} could not find ${missing.join(', ')} in ${project.entry ?? 'any file'}: nothing was changed there. Add these lines yourself:\n`,
      );
    } else
      out(
        `\nAdd these lines to ${project.entry ?? 'the file that makes your app'} (or run gatehouse init --write):`,
      );
    for (const edit of linesFor(project, appName))
      out(`  ${colors.cyan(edit.code.padEnd(58))} ${colors.dim(`// ${edit.where}: ${edit.why}`)}`);
  }
  out(
    `\nThen: ${colors.bold(install)}, start your app as before, and look: npx gatehouse status --url http://127.0.0.1:${port ?? 3000}/_gatehouse`,
  );
  return missing.length > 0 ? 1 : 0;
}

function listenPort(source: string): number | undefined {
  const port = /\.listen\s*\(\s*(\d{2,5})\b/.exec(source)?.[1];
  return port === undefined ? undefined : Number(port);
}
