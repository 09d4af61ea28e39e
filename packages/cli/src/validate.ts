// `gatehouse validate FILE`: the configuration checked exactly as the gateway checks it when it starts
// or reloads — every problem with file:line:col and a suggestion, the old forms it still reads as
// warnings. Exit code 0 when valid, 1 when not.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError, type ConfigProblem } from '@gatehousejs/core';
import type { LoadedConfig } from '@gatehousejs/gateway/config';
import type pc from 'picocolors';
import { CliError, type Io } from './io.js';

type Colors = ReturnType<typeof pc.createColors>;

export interface ValidateOptions {
  json?: boolean;
  /** A dotenv file whose variables `${NAME}` references may use (besides the environment). */
  envFile?: string;
}

function line(problem: ConfigProblem, colors: Colors): string {
  const where =
    problem.source === undefined
      ? ''
      : `${colors.cyan(`${problem.source.file}:${problem.source.line}:${problem.source.column}`)} `;
  const path = problem.path === '' ? '' : `${colors.bold(problem.path)}: `;
  return `${where}${path}${problem.message}`;
}

/** Runs the command; returns the exit code. */
export async function validateCommand(
  file: string,
  options: ValidateOptions,
  io: Io,
  colors: Colors,
): Promise<number> {
  const env: Record<string, string | undefined> = { ...io.env };
  if (options.envFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(resolve(io.cwd, options.envFile), 'utf8');
    } catch (error) {
      throw new CliError(
        `Cannot read the env file ${options.envFile} (${(error as NodeJS.ErrnoException).code}).`,
      );
    }
    Object.assign(env, parseEnv(text));
  }
  const path = resolve(io.cwd, file);
  let loaded: LoadedConfig | undefined;
  let problems: readonly ConfigProblem[] = [];
  try {
    // Loaded here, not at start: the schema brings every capability package (other commands need none).
    const { loadGatehouseConfig } = await import('@gatehousejs/gateway/config');
    loaded = await loadGatehouseConfig(path, { env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems = error.problems;
  }
  // Problems name the file as it was given, not its absolute path.
  const named = (list: readonly ConfigProblem[]) =>
    list.map((p) => (p.source === undefined ? p : { ...p, source: { ...p.source, file } }));
  const shownProblems = named(problems.map((p) => ({ ...p, message: p.message.split(path).join(file) })));
  const warnings = named(loaded?.warnings ?? []);
  if (options.json) {
    io.stdout.write(
      `${JSON.stringify({ file, valid: loaded !== undefined, problems: shownProblems, warnings }, null, 2)}\n`,
    );
    return loaded === undefined ? 1 : 0;
  }
  for (const w of warnings) io.stderr.write(`${colors.yellow('warning')} ${line(w, colors)}\n`);
  if (loaded === undefined) {
    for (const p of shownProblems) io.stderr.write(`${colors.red('error')} ${line(p, colors)}\n`);
    const n = shownProblems.length;
    io.stderr.write(
      `\n${colors.red('✗')} ${file}: ${n} problem${n === 1 ? '' : 's'}; nothing was started. Fix ${n === 1 ? 'it' : 'them'} and run gatehouse validate ${file} again.\n`,
    );
    return 1;
  }
  const config = loaded.config;
  const parts = [
    `${Object.keys(config.services ?? {}).length} services`,
    `${(config.routes ?? []).length} routes`,
    ...(['auth', 'rateLimit', 'tracing', 'versioning', 'openapi', 'aggregate', 'cache'] as const).filter(
      (k) => config[k] !== undefined,
    ),
  ];
  io.stdout.write(`${colors.green('✓')} ${file} is valid (${parts.join(', ')})\n`);
  return 0;
}
