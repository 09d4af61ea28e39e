// The version is observable on every framework: the exchange carries it, the server span has the
// `gatehouse.api.version` attribute, the access log line an `api_version` field, and `/metrics` a
// requests-per-version counter (gatehouse_api_requests_total) — the number that says when a version
// can be retired.
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { FRAMEWORKS, type RunningApp, startApp } from '../support/apps.js';
import { request } from '../support/raw-http.js';

const exporter = new InMemorySpanExporter();
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
});
afterAll(() => {
  trace.disable();
  context.disable();
});
beforeEach(() => exporter.reset());

/** Spans end when responses close; give the close event a moment. */
async function serverSpan(path: string): Promise<ReadableSpan | undefined> {
  for (let i = 0; i < 50; i++) {
    const found = exporter.getFinishedSpans().find((s) => s.attributes['url.path'] === path);
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
}

describe.each(FRAMEWORKS)('%s', (framework) => {
  let app: RunningApp;
  const lines: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    app = await startApp(framework, {
      config: { admin: { access: { peers: ['loopback'] } } },
      chain: (gw) => [
        gw.tracing({ metrics: { prometheus: true } }),
        gw.accessLog({ logger: { info: (line: object) => lines.push(line as Record<string, unknown>) } }),
        gw.admin(),
        gw.version({
          versions: [{ version: '1', deprecation: '2026-01-01' }, '2'],
          sources: [{ from: 'path', strip: true }, 'header'],
          neutral: ['/hello', '/metrics', '/health', '/ready'],
        }),
      ],
    });
  });
  afterAll(() => app?.close());

  const logged = async (path: string) => {
    for (let i = 0; i < 50; i++) {
      const line = lines.find((l) => l.path === path);
      if (line !== undefined) return line;
      await new Promise((r) => setTimeout(r, 10));
    }
    return undefined;
  };

  test('the server span and the access log line carry the version', async () => {
    const res = await request(app.port, { path: '/v1/view/span' });
    expect(res.status).toBe(200);
    const span = await serverSpan('/v1/view/span');
    expect(span?.attributes['gatehouse.api.version']).toBe('1');
    const line = await logged('/v1/view/span');
    expect(line).toMatchObject({ path: '/v1/view/span', api_version: '1', status: 200 });
    expect(
      (line?.annotations as Record<string, unknown> | undefined)?.['gatehouse.api.version'],
    ).toBeUndefined();
  });

  test('a refused version has no version in the log, and its error code', async () => {
    const res = await request(app.port, { path: '/view/refused', headers: { 'api-version': '7' } });
    expect(res.status).toBe(400);
    const line = await logged('/view/refused');
    expect(line).toMatchObject({ status: 400, error_code: 'GH_VERSION_UNSUPPORTED' });
    expect(line?.api_version).toBeUndefined();
    expect((await serverSpan('/view/refused'))?.attributes['gatehouse.api.version']).toBeUndefined();
  });

  test('/metrics counts requests per version', async () => {
    const count = async (version: string) => {
      const res = await request(app.port, { path: '/metrics' });
      expect(res.status).toBe(200);
      const match = new RegExp(
        `^gatehouse_api_requests_total\\{[^}]*gatehouse_api_version="${version}"[^}]*\\} (\\d+)`,
        'm',
      ).exec(res.body.toString());
      return match === null ? 0 : Number(match[1]);
    };
    const [one, two] = [await count('1'), await count('2')];
    for (let i = 0; i < 3; i++) await request(app.port, { path: '/view/x', headers: { 'api-version': '2' } });
    await request(app.port, { path: '/v1/view/x' });
    await request(app.port, { path: '/view/x', headers: { 'api-version': '9' } });
    expect(await count('2')).toBe(two + 3);
    expect(await count('1')).toBe(one + 1);
    expect(await count('9')).toBe(0);
  });
});
