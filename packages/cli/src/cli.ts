// The `gatehouse` command: its commands and options (commander), run against an Io so that tests can
// run it in-process. Every failure is one message saying what went wrong and what to do, exit code 1.
import { didYouMean } from '@gatehousejs/core';
import { Command, CommanderError, Option } from 'commander';
import { type AdminTarget, adminRequest } from './admin.js';
import { initCommand } from './init.js';
import { CliError, colorsFor, type Io, processIo } from './io.js';
import { historyLine, migrationDetail, migrationTable, mode, routesTable, table } from './render.js';
import { validateCommand } from './validate.js';

const MODES = ['local', 'shadow', 'split', 'fallback', 'remote'];
const VERSION = '0.1.0';

interface GlobalOptions {
  url?: string;
  token?: string;
  apiKey?: string;
  header?: string[];
  json?: boolean;
  color?: boolean;
  timeout?: string;
}

/** Runs `gatehouse …` (`argv` without node and the script); resolves with the exit code. */
export async function run(argv: readonly string[], io: Io = processIo()): Promise<number> {
  let exitCode = 0;
  const program = new Command('gatehouse');
  const colors = () =>
    colorsFor(io.stdout, io.env, (program.opts() as GlobalOptions).color === false ? false : undefined);
  const errColors = () =>
    colorsFor(io.stderr, io.env, (program.opts() as GlobalOptions).color === false ? false : undefined);
  const target = (): AdminTarget => {
    const o = program.opts() as GlobalOptions;
    const headers: Record<string, string> = {};
    const token = o.token ?? io.env.GATEHOUSE_ADMIN_TOKEN;
    const apiKey = o.apiKey ?? io.env.GATEHOUSE_ADMIN_API_KEY;
    if (token !== undefined && token !== '') headers.authorization = `Bearer ${token}`;
    if (apiKey !== undefined && apiKey !== '') headers['x-api-key'] = apiKey;
    for (const header of o.header ?? []) {
      const colon = header.indexOf(':');
      if (colon <= 0) throw new CliError(`--header '${header}' is not 'name: value'.`);
      headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
    }
    const timeoutMs = Number(o.timeout ?? 5_000);
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
      throw new CliError(`--timeout '${o.timeout}' is not a number of milliseconds.`);
    const url = o.url ?? io.env.GATEHOUSE_ADMIN_URL ?? 'http://127.0.0.1:8080';
    if (!/^https?:\/\/[^/]+/.test(url))
      throw new CliError(
        `--url '${url}' is not an http(s) URL: give the gateway's address with its admin prefix, e.g. http://127.0.0.1:8080/_gatehouse.`,
      );
    return { url, headers, timeoutMs };
  };
  const json = () => (program.opts() as GlobalOptions).json === true;
  const print = (text: string): void => {
    io.stdout.write(text);
  };
  const printJson = (value: unknown): void => print(`${JSON.stringify(value, null, 2)}\n`);

  program
    .name('gatehouse')
    .description(
      'Validate a Gatehouse configuration, watch and steer a running gateway, set Gatehouse up in a project.',
    )
    .version(VERSION, '-v, --version')
    .addOption(
      new Option('--url <url>', "the gateway's admin URL, with admin.prefix").env('GATEHOUSE_ADMIN_URL'),
    )
    .addOption(
      new Option('--token <token>', 'a bearer token for the admin (Authorization: Bearer)').env(
        'GATEHOUSE_ADMIN_TOKEN',
      ),
    )
    .addOption(
      new Option('--api-key <key>', 'an API key for the admin (x-api-key)').env('GATEHOUSE_ADMIN_API_KEY'),
    )
    .option('-H, --header <header...>', "extra request headers for the admin, 'name: value'")
    .option('--json', 'print JSON for scripts instead of tables')
    .option('--no-color', 'no colours (also: NO_COLOR=1)')
    .option('--timeout <ms>', 'how long to wait for the gateway', '5000')
    .showHelpAfterError('(run gatehouse --help for every command)')
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  gatehouse validate gatehouse.yaml
  gatehouse status --url http://127.0.0.1:8080/_gatehouse
  gatehouse migration orders
  gatehouse promote orders --reason "diffs at 0 for a day"
  gatehouse set orders --mode split --weight 25
  gatehouse rollback orders --reason "p99 up"
  gatehouse init --write`,
    );

  program
    .command('validate')
    .description(
      'check a configuration file (YAML or JSON) as the gateway would: every problem with file:line:col',
    )
    .argument('<file>', 'the configuration file')
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the help names the reference syntax
    .option('--env-file <file>', 'a dotenv file for ${NAME} references (besides the environment)')
    .action(async (file: string, options: { envFile?: string }) => {
      exitCode = await validateCommand(
        file,
        { json: json(), ...(options.envFile === undefined ? {} : { envFile: options.envFile }) },
        io,
        errColors(),
      );
    });

  program
    .command('status')
    .description("the running gateway: health, readiness, the configuration's revision and last reload")
    .action(async () => {
      const t = target();
      const health = await adminRequest(t, '/health');
      let ready: unknown;
      try {
        ready = await adminRequest(t, '/ready');
      } catch (error) {
        ready = { status: 'not ready', detail: (error as Error).message };
      }
      let config: Record<string, unknown> | undefined;
      let configNote: string | undefined;
      try {
        config = (await adminRequest(t, '/config')) as Record<string, unknown>;
      } catch (error) {
        configNote = (error as Error).message;
      }
      if (json()) return printJson({ health, ready, config: config ?? null });
      const c = colors();
      const readyStatus = (ready as { status?: string }).status;
      const rows: string[][] = [
        ['gateway', t.url],
        [
          'health',
          (health as { status?: string }).status === 'ok'
            ? c.green('ok')
            : c.red(String((health as { status?: string }).status)),
        ],
        ['ready', readyStatus === 'ready' ? c.green('ready') : c.yellow(String(readyStatus))],
      ];
      if (config !== undefined) {
        const last = config.lastReload as { outcome: string; at: string; problems?: unknown[] } | undefined;
        rows.push(
          [
            'configuration',
            `${String(config.origin)}, revision ${String(config.revision)} (applied ${String(config.appliedAt)})`,
          ],
          [
            'last reload',
            last === undefined
              ? c.dim('none since start')
              : last.outcome === 'rejected'
                ? c.red(
                    `rejected at ${last.at}: ${last.problems?.length ?? 0} problem${last.problems?.length === 1 ? '' : 's'} (revision ${String(config.revision)} stays)`,
                  )
                : `${last.outcome} at ${last.at}`,
          ],
        );
        const pending = config.restartRequired as string[];
        if (pending.length > 0)
          rows.push(['restart needed', c.yellow(`${pending.join(', ')} changed; restart to apply`)]);
      }
      print(table(['', ''], rows, c).split('\n').slice(1).join('\n'));
      if (config === undefined && configNote !== undefined)
        io.stderr.write(`${colors().dim(`(no configuration status: ${configNote.split('.')[0]})`)}\n`);
      const last = config?.lastReload as
        | {
            outcome: string;
            problems?: {
              path: string;
              message: string;
              source?: { file: string; line: number; column: number };
            }[];
          }
        | undefined;
      if (last?.outcome === 'rejected') {
        for (const p of last.problems ?? [])
          print(
            `  ${p.source === undefined ? '' : c.cyan(`${p.source.file}:${p.source.line}:${p.source.column} `)}${p.path === '' ? '' : `${p.path}: `}${p.message}\n`,
          );
      }
    });

  program
    .command('routes')
    .description('the route table in force: every route, its service and mode')
    .action(async () => {
      const body = await adminRequest(target(), '/routes');
      if (json()) return printJson(body);
      print(routesTable(body, colors()));
    });

  program
    .command('migration')
    .description(
      "each route's migration: mode, traffic per side, errors, latency, diffs; one route with its history",
    )
    .argument('[route]', 'one route (or group), in detail')
    .action(async (route: string | undefined) => {
      const body = (await adminRequest(target(), '/migration')) as {
        routes?: { name: string }[];
        history?: unknown[];
      };
      if (route === undefined) {
        if (json()) return printJson(body);
        print(migrationTable(body, colors()));
        const history = (body.history ?? []) as Parameters<typeof historyLine>[0][];
        if (history.length > 0) {
          print(`\n${colors().bold('Latest changes')}\n`);
          for (const e of history.slice(0, 10)) print(`  ${historyLine(e, colors())}\n`);
        }
        return;
      }
      const names = (body.routes ?? []).map((r) => r.name);
      if (!names.includes(route)) {
        throw new CliError(
          `No route named '${route}'${didYouMean(route, names)} (routes: ${names.join(', ') || 'none'}).`,
        );
      }
      if (json())
        return printJson({
          route: (body.routes ?? []).find((r) => r.name === route),
          history: ((body.history ?? []) as { route?: string }[]).filter((e) => e.route === route),
        });
      print(migrationDetail(body, route, colors())!);
    });

  const write = async (path: string, body: Record<string, unknown>) => {
    const answer = (await adminRequest(target(), path, { method: 'POST', body })) as {
      change: { route: string; from: { mode: string; weight: number }; to: { mode: string; weight: number } };
    };
    if (json()) return printJson(answer);
    const c = colors();
    const { change } = answer;
    print(
      `${c.green('✓')} ${change.route}: ${mode(change.from.mode, change.from.weight, c)} → ${mode(change.to.mode, change.to.weight, c)}\n`,
    );
  };
  const reasonOption = ['--reason <text>', 'why (kept in the audit history)'] as const;
  const expectOption = new Option(
    '--expect <mode>',
    'only if the route is in this mode now (refused otherwise)',
  ).choices(MODES);
  const weight = (text: string | undefined) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n) || n < 0 || n > 100)
      throw new CliError(`--weight '${text}' is not a percentage from 0 to 100.`);
    return n;
  };
  const body = (
    route: string,
    o: { reason?: string; expect?: string },
    extra: Record<string, unknown> = {},
  ) => ({
    route,
    ...extra,
    ...(o.reason === undefined ? {} : { reason: o.reason }),
    ...(o.expect === undefined ? {} : { expect: o.expect }),
  });

  program
    .command('promote')
    .description('move a route one stage on: local → shadow → split → fallback → remote')
    .argument('<route>', 'the route (or group) name')
    .option('--weight <percent>', 'the split weight when promoting to split (default: its weight, or 10)')
    .option(...reasonOption)
    .addOption(expectOption)
    .action(async (route: string, o: { weight?: string; reason?: string; expect?: string }) => {
      const w = weight(o.weight);
      await write('/migration/promote', body(route, o, w === undefined ? {} : { weight: w }));
    });

  program
    .command('rollback')
    .description('move a route one stage back: remote → fallback → split → shadow → local')
    .argument('<route>', 'the route (or group) name')
    .option(...reasonOption)
    .addOption(expectOption)
    .action(async (route: string, o: { reason?: string; expect?: string }) => {
      await write('/migration/rollback', body(route, o));
    });

  program
    .command('set')
    .description("set a route's mode (and split weight)")
    .argument('<route>', 'the route (or group) name')
    .addOption(new Option('--mode <mode>', 'the mode').choices(MODES).makeOptionMandatory())
    .option('--weight <percent>', 'the split weight, 0–100')
    .option(...reasonOption)
    .addOption(expectOption)
    .action(async (route: string, o: { mode: string; weight?: string; reason?: string; expect?: string }) => {
      const w = weight(o.weight);
      await write(
        '/migration/mode',
        body(route, o, { mode: o.mode, ...(w === undefined ? {} : { weight: w }) }),
      );
    });

  program
    .command('rearm')
    .description("re-arm a route after a gate moved it: the table's mode and weight again, judged afresh")
    .argument('<route>', 'the route (or group) name')
    .option(...reasonOption)
    .action(async (route: string, o: { reason?: string }) => {
      await write('/migration/rearm', body(route, o));
    });

  program
    .command('reload')
    .description(
      'make the gateway read its configuration file again now (it also follows the file by itself)',
    )
    .action(async () => {
      const answer = (await adminRequest(target(), '/config/reload', { method: 'POST' })) as {
        outcome: string;
        revision: number;
        changed: string[];
        restartRequired: string[];
      };
      if (json()) return printJson(answer);
      const c = colors();
      print(
        answer.outcome === 'applied'
          ? `${c.green('✓')} revision ${answer.revision} applied (${answer.changed.join(', ')})\n`
          : `${c.dim('•')} unchanged: revision ${answer.revision} is the file's\n`,
      );
      if (answer.restartRequired.length > 0)
        print(`${c.yellow('!')} ${answer.restartRequired.join(', ')} changed and need a restart\n`);
    });

  program
    .command('purge')
    .description('remove answers from the response cache, by key (service:/path) or prefix')
    .addOption(new Option('--key <key>', "one entry: 'service:/path?query'").conflicts('prefix'))
    .addOption(new Option('--prefix <prefix>', "every entry under 'service:/path/'"))
    .option(...reasonOption)
    .action(async (o: { key?: string; prefix?: string; reason?: string }) => {
      if ((o.key === undefined) === (o.prefix === undefined)) throw new CliError('Give --key or --prefix.');
      const query = new URLSearchParams({
        ...(o.key === undefined ? {} : { key: o.key }),
        ...(o.prefix === undefined ? {} : { prefix: o.prefix }),
        ...(o.reason === undefined ? {} : { reason: o.reason }),
      });
      const answer = (await adminRequest(target(), `/cache/purge?${query}`, { method: 'POST' })) as {
        purged: number;
      };
      if (json()) return printJson(answer);
      print(`${colors().green('✓')} purged ${answer.purged} entr${answer.purged === 1 ? 'y' : 'ies'}\n`);
    });

  program
    .command('init')
    .description(
      'set Gatehouse up in this Express or Koa project: a starter gatehouse.yaml and the lines to add',
    )
    .option('--dir <dir>', 'the project directory', '.')
    .option('--write', 'add the lines to the app file (otherwise they are printed)')
    .addOption(
      new Option('--framework <name>', 'when the project has both or neither').choices(['express', 'koa']),
    )
    .option('--entry <file>', 'the file that makes the app, when it is not found')
    .option('--force', 'write the starter gatehouse.yaml over an existing one')
    .action(
      (o: {
        dir: string;
        write?: boolean;
        framework?: 'express' | 'koa';
        entry?: string;
        force?: boolean;
      }) => {
        exitCode = initCommand({ ...o, json: json() }, io, colors());
      },
    );

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with code 0.
      return error.exitCode;
    }
    if (error instanceof CliError) {
      io.stderr.write(`${errColors().red('error')} ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr.write(`${errColors().red('error')} ${(error as Error).message ?? String(error)}\n`);
    return 1;
  }
  return exitCode;
}
