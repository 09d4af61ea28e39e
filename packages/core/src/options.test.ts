import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config/validate.js';
import {
  functionOption,
  isCodeOnlyOption,
  objectOption,
  Problems,
  parseOptions,
  pathPatternOption,
  pathPatternProblem,
  unknownKeys,
  withCrossCheck,
} from './options.js';

const int = () => v.pipe(v.number(), v.safeInteger());
const schema = v.strictObject({
  mode: v.optional(v.picklist(['local', 'shadow', 'split', 'remote']), 'local'),
  retries: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(0), v.maxValue(10))),
  enabled: v.optional(v.boolean()),
  key: v.optional(functionOption<(x: string) => string>('a function of the request')),
  store: v.optional(objectOption<{ get(): void }>('a store such as memoryStore()', ['get'])),
  cost: v.optional(
    v.union([v.pipe(v.number(), v.safeInteger(), v.minValue(0)), functionOption<() => number>()]),
  ),
  breaker: v.optional(
    v.union([
      v.literal(false),
      v.strictObject({
        failures: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(1))),
        window: v.optional(int()),
      }),
    ]),
  ),
  rules: v.optional(
    v.array(
      v.strictObject({
        path: v.pipe(v.string(), v.startsWith('/')),
        methods: v.optional(v.pipe(v.array(v.string()), v.minLength(1))),
      }),
    ),
  ),
});

function problemsOf(value: unknown, name = 'thing') {
  try {
    parseOptions(schema, value, { name });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected a ConfigError');
}

describe('parseOptions', () => {
  it('returns the output with defaults, keeping functions and objects as given', () => {
    const key = (x: string) => x;
    const store = { get() {} };
    const out = parseOptions(schema, { key, store, breaker: false }, { name: 'thing' });
    expect(out.mode).toBe('local');
    expect(out.key).toBe(key);
    expect(out.store).toBe(store);
    expect(out.breaker).toBe(false);
  });

  it('reports every problem at once, at every depth, with its path and a suggestion', () => {
    expect(
      problemsOf({
        mode: 'shadw',
        retrys: 3,
        enabled: 'yes',
        key: 'ip',
        store: {},
        cost: 'x',
        breaker: { failurs: 3, window: '10s' },
        rules: [{ path: '/a' }, { path: 'b', method: ['GET'] }, { path: '/c', methods: [] }],
      }),
    ).toEqual([
      "thing.mode: expected one of 'local', 'shadow', 'split' or 'remote', received the string 'shadw' — did you mean 'shadow'?",
      "thing.retrys: unknown option; did you mean 'retries'?",
      "thing.enabled: expected true or false, received the string 'yes' — did you mean true (without quotes)?",
      "thing.key: expected a function of the request, received the string 'ip'",
      'thing.store: expected a store such as memoryStore(), received an object',
      "thing.cost: expected an integer or a function, received the string 'x'",
      "thing.breaker.failurs: unknown option; did you mean 'failures'?",
      "thing.breaker.window: expected an integer, received the string '10s'",
      "thing.rules[1].path: expected a string starting with '/', received the string 'b'",
      "thing.rules[1].method: unknown option; did you mean 'methods'?",
      'thing.rules[2].methods: must not be empty',
    ]);
  });

  it('lists the allowed options when no name is close', () => {
    expect(problemsOf({ zzzzzz: 1 })).toEqual([
      'thing.zzzzzz: unknown option; expected one of mode, retries, enabled, key, store, cost, breaker, rules',
    ]);
  });

  it('says what a union expected when the value matches no branch, and follows the branch it matches', () => {
    expect(problemsOf({ breaker: true })).toEqual([
      'thing.breaker: expected false or an object, received true',
    ]);
    expect(problemsOf({ cost: -1 })).toEqual(['thing.cost: expected a number ≥ 0, received the number -1']);
  });

  it('reports the options object itself, and keys that could alter prototypes', () => {
    expect(problemsOf('nope')).toEqual(["thing: expected an object, received the string 'nope'"]);
    expect(problemsOf(JSON.parse('{"__proto__": {"polluted": true}}'))).toEqual([
      "thing.__proto__: '__proto__' is not allowed as a key (it could alter object prototypes)",
    ]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('uses the message a schema words itself', () => {
    const worded = v.strictObject({ path: v.string('a path, please') });
    expect(() => parseOptions(worded, { path: 1 }, { name: 'x' })).toThrow(/x\.path: a path, please/);
  });

  it('places problems under names that are not identifiers as given', () => {
    expect(problemsOf({ retries: 11 }, 'auth.require()')).toEqual([
      'auth.require().retries: expected a number ≤ 10, received the number 11',
    ]);
  });

  it('marks function and object options as code only, through wrappers', () => {
    expect(isCodeOnlyOption(v.optional(functionOption()))).toBe(true);
    expect(isCodeOnlyOption(v.optional(objectOption('a store'), {}))).toBe(true);
    expect(
      isCodeOnlyOption(
        v.pipe(
          functionOption(),
          v.check(() => true),
        ),
      ),
    ).toBe(true);
    expect(isCodeOnlyOption(v.optional(v.string()))).toBe(false);
  });
});

describe('Problems and unknownKeys', () => {
  it('word unknown keys as parseOptions does', () => {
    const problems = new Problems('auth');
    unknownKeys(problems, 'rules[0]', { role: 1, qqqqqq: 2 }, ['roles', 'path']);
    expect(() => problems.throwIfAny()).toThrow(ConfigError);
    try {
      problems.throwIfAny();
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        { path: 'auth.rules[0].role', message: "unknown option; did you mean 'roles'?" },
        { path: 'auth.rules[0].qqqqqq', message: 'unknown option; expected one of roles, path' },
      ]);
    }
  });
});

describe('the README example', () => {
  const greeterOptionsSchema = v.strictObject({
    greeting: v.optional(v.pipe(v.string(), v.minLength(1)), 'hello'),
    mode: v.optional(v.picklist(['polite', 'brief']), 'polite'),
    skip: v.optional(functionOption<(path: string) => boolean>('a function of the path')),
    meterProvider: v.optional(
      objectOption<{ getMeter(): unknown }>('an OpenTelemetry MeterProvider', ['getMeter']),
    ),
  });

  it('reports what the README shows', () => {
    let thrown: unknown;
    try {
      parseOptions(
        greeterOptionsSchema,
        { greting: 'hi', mode: 'shadw', skip: '/health' },
        { name: 'greeter' },
      );
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toBe(
      [
        'Invalid Gatehouse configuration (3 problems):',
        "  - greeter.greting: unknown option; did you mean 'greeting'?",
        "  - greeter.mode: expected one of 'polite' or 'brief', received the string 'shadw'",
        "  - greeter.skip: expected a function of the path, received the string '/health'",
      ].join('\n'),
    );
    expect(parseOptions(greeterOptionsSchema, {}, { name: 'greeter' })).toEqual({
      greeting: 'hello',
      mode: 'polite',
    });
  });
});

describe('pathPatternOption', () => {
  const rules = v.strictObject({ rules: v.array(v.strictObject({ path: pathPatternOption() })) });

  it('refuses a trailing slash, suggesting the path itself and everything below it', () => {
    expect(() =>
      parseOptions(rules, { rules: [{ path: '/ok' }, { path: '/orders/' }] }, { name: 'x' }),
    ).toThrow(
      "x.rules[1].path: must not end with '/': a normalized path never does, so it would never match — did you mean '/orders' (that path) or '/orders/*' (it and everything below)?",
    );
    expect(pathPatternProblem('//')).toMatch(/did you mean '\/' \(that path\) or '\/\*'/);
  });

  it('explains the other mistakes, and accepts what createPathMatcher accepts', () => {
    expect(pathPatternProblem('orders/*')).toBe("must start with '/' — did you mean '/orders/*'?");
    expect(pathPatternProblem('/a?b=1')).toMatch(/query or fragment/);
    expect(pathPatternProblem('/a/*/b')).toMatch(/'\*' must be the last segment/);
    expect(pathPatternProblem('/a/:1x')).toMatch(/invalid parameter ':1x'/);
    expect(pathPatternProblem('/a/../b')).toMatch(/dot segment/);
    for (const fine of ['/', '/*', '/orders', '/orders/*', '/orders/:id', '/a-b/c.d']) {
      expect(pathPatternProblem(fine), fine).toBeUndefined();
    }
  });
});

describe('withCrossCheck', () => {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  const window = withCrossCheck(
    v.strictObject({
      points: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
      duration: v.optional(int()),
      per: v.optional(v.string()),
    }),
    (w, report) => {
      if (isObject(w) && (w.duration === undefined) === (w.per === undefined))
        report([], "give exactly one of 'duration' or 'per'");
    },
  );
  const policy = withCrossCheck(
    v.strictObject({
      limits: v.optional(v.array(window)),
      tiers: v.optional(v.record(v.string(), v.array(window))),
    }),
    (p, report) => {
      if (isObject(p) && p.limits !== undefined && p.tiers !== undefined)
        report(['limits'], "give either 'limits' or 'tiers', not both");
    },
  );

  it('runs checks across options even when a value elsewhere has the wrong type (valibot alone would skip them)', () => {
    expect(() =>
      parseOptions(
        policy,
        { limits: [{ points: 1.5, duration: 1, per: 'day' }], tiers: { free: [{ points: 'x' }] } },
        { name: 'p' },
      ),
    ).toThrow(
      [
        'Invalid Gatehouse configuration (5 problems):',
        "  - p.limits: give either 'limits' or 'tiers', not both",
        "  - p.limits[0]: give exactly one of 'duration' or 'per'",
        '  - p.limits[0].points: expected an integer, received the number 1.5',
        "  - p.tiers.free[0]: give exactly one of 'duration' or 'per'",
        "  - p.tiers.free[0].points: expected an integer, received the string 'x'",
      ].join('\n'),
    );
    // valibot's own checks stay silent once a value below them has the wrong type (a string for an integer):
    const issues = v.safeParse(policy, { limits: [{ points: 'x', duration: 1 }], tiers: {} }).issues ?? [];
    expect(issues.map((issue) => issue.message)).not.toContain("give either 'limits' or 'tiers', not both");
  });

  it('reports a problem once when valibot runs the check too', () => {
    let thrown: unknown;
    try {
      parseOptions(policy, { limits: [], tiers: {} }, { name: 'p' });
    } catch (error) {
      thrown = error;
    }
    expect((thrown as ConfigError).problems).toEqual([
      { path: 'p.limits', message: "give either 'limits' or 'tiers', not both" },
    ]);
    expect(v.safeParse(policy, { limits: [], tiers: {} }).success).toBe(false);
  });
});

describe('core factories', () => {
  it('requestId() checks its options in one ConfigError', async () => {
    const { requestId } = await import('./request-id.js');
    let thrown: unknown;
    try {
      requestId({ header: 'x request id', maxLength: 4, generat: () => 'x', trustIncoming: 'no' } as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'requestId.header: expected a header name (letters, digits and -)',
      'requestId.maxLength: expected a number ≥ 8, received the number 4',
      "requestId.generat: unknown option; did you mean 'generate'?",
      "requestId.trustIncoming: expected true or false, received the string 'no' — did you mean false (without quotes)?",
    ]);
    expect(requestId({ header: 'X-Trace-Id', maxLength: 64 }).name).toBe('requestId');
  });

  it('admin() refuses a prefix that can never match, with the one that was meant', async () => {
    const { admin } = await import('./admin.js');
    const target = { state: 'running', adminEndpoints: new Map() } as never;
    expect(() => admin(target, { prefix: '/_gatehouse/' })).toThrow(ConfigError);
    expect(() => admin(target, { prefix: '/_gatehouse/' })).toThrow(
      `admin.prefix: expected '' or a path that starts with '/' and does not end with '/', received "/_gatehouse/" — did you mean '/_gatehouse'?`,
    );
  });
});

describe('the Gateway', () => {
  it('reports its configuration and its own options together, in one ConfigError', async () => {
    const { Gateway } = await import('./gateway.js');
    let thrown: unknown;
    try {
      new Gateway({ shutdown: { drainTimeoutMs: -1 } }, { loger: console, onError: 'log' } as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'shutdown.drainTimeoutMs: expected an integer from 0 to 600000, received the number -1',
      "gateway.loger: unknown option; did you mean 'logger'?",
      "gateway.onError: expected a function (error, { exchange, phase }) => void, received the string 'log'",
    ]);
    expect(() => new Gateway({}, { logger: { error() {} } } as never)).toThrow(
      'gateway.logger: expected a logger with error(obj, msg) and info(obj, msg) (pino, for one), received an object',
    );
  });
});

describe('what valibot alone would take', () => {
  const numbers = v.strictObject({
    ratio: v.optional(v.number()),
    weight: v.optional(v.pipe(v.number('must be a percentage'), v.maxValue(100, 'must be a percentage'))),
    either: v.optional(v.union([v.string(), v.number()])),
    nested: v.optional(v.strictObject({ a: v.optional(v.string()) })),
    table: v.optional(v.record(v.string(), v.string())),
  });

  it('refuses Infinity for a number, once, in the option’s own words when it has them', () => {
    expect(() => parseOptions(numbers, { ratio: Number.POSITIVE_INFINITY }, { name: 'n' })).toThrow(
      'n.ratio: expected a finite number, received the number Infinity',
    );
    let thrown: unknown;
    try {
      parseOptions(
        numbers,
        { weight: Number.POSITIVE_INFINITY, either: Number.NEGATIVE_INFINITY },
        { name: 'n' },
      );
    } catch (error) {
      thrown = error;
    }
    expect((thrown as ConfigError).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'n.weight: must be a percentage',
      'n.either: expected a finite number, received the number -Infinity',
    ]);
  });

  it('refuses an array where an object or a record belongs, and reports every unknown key', () => {
    let thrown: unknown;
    try {
      parseOptions(numbers, { nested: ['x'], table: [] }, { name: 'n' });
    } catch (error) {
      thrown = error;
    }
    expect((thrown as ConfigError).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'n.nested: expected an object, received an array',
      'n.table: expected an object, received an empty array',
    ]);
    expect(() => parseOptions(numbers, { ratoi: 1, wieght: 2 }, { name: 'n' })).toThrow(
      /n\.ratoi: unknown option; did you mean 'ratio'\?\n {2}- n\.wieght: unknown option; did you mean 'weight'\?/,
    );
  });
});
