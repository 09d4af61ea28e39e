// Where the command writes and what it reads from its surroundings: passed in, so that tests run the
// command in-process with their own streams, environment and working directory.
import pc from 'picocolors';

export interface Io {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** The process's own. */
export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/** Colours for one stream: on for a terminal unless NO_COLOR is set (or FORCE_COLOR asks for them). */
export function colorsFor(
  stream: Io['stdout'],
  env: Io['env'],
  wanted: boolean | undefined,
): ReturnType<typeof pc.createColors> {
  const on =
    wanted ??
    (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0'
      ? true
      : env.NO_COLOR === undefined && stream.isTTY === true && env.TERM !== 'dumb');
  return pc.createColors(on);
}

/** A failure the command reports in one message (what went wrong, and what to do), then exit code 1. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
