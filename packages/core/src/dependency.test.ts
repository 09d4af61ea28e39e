import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config/validate.js';
import { DependencyMonitor, dependencyName } from './dependency.js';
import { isGatehouseError } from './errors.js';
import { Gateway } from './gateway.js';

type Reported = { error: unknown; phase: string };
const recorder = () => {
  const reports: Reported[] = [];
  return {
    reports,
    report: (error: unknown, _exchange: unknown, phase: string) => reports.push({ error, phase }),
  };
};
const codes = (reports: Reported[]) => reports.map((r) => (r.error as { code?: string }).code);

describe('DependencyMonitor', () => {
  it('reports the first failure of an outage once, with its cause, and the recovery once', () => {
    const monitor = new DependencyMonitor('jwks', 'https://idp.example/jwks');
    const sink = recorder();
    monitor.reportTo(sink);
    monitor.succeeded();
    expect(sink.reports).toEqual([]);
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:9');
    monitor.failed(cause);
    monitor.failed(new Error('again'));
    monitor.failed(new Error('and again'));
    expect(monitor.state).toBe('down');
    expect(monitor.cause).toBe(cause);
    expect(codes(sink.reports)).toEqual(['GH_DEPENDENCY_UNAVAILABLE']);
    const outage = sink.reports[0]!.error as Error & { dependency: unknown };
    expect(outage.cause).toBe(cause);
    expect(outage.message).toBe(
      'jwks https://idp.example/jwks is unavailable: connect ECONNREFUSED 127.0.0.1:9',
    );
    expect(outage.dependency).toEqual({ kind: 'jwks', name: 'https://idp.example/jwks', state: 'down' });
    expect(sink.reports[0]!.phase).toBe('dependency:jwks');
    monitor.succeeded();
    monitor.succeeded();
    expect(codes(sink.reports)).toEqual(['GH_DEPENDENCY_UNAVAILABLE', 'GH_DEPENDENCY_RECOVERED']);
    expect((sink.reports[1]!.error as { dependency: { state: string } }).dependency.state).toBe('up');
    // A second outage is a new event.
    monitor.failed(new Error('down again'));
    expect(codes(sink.reports)).toHaveLength(3);
  });

  it('tells a reporter that joins during an outage at once, and each reporter only once', () => {
    const monitor = new DependencyMonitor('redis', '127.0.0.1:6379');
    monitor.failed(new Error('ECONNREFUSED'));
    const late = recorder();
    monitor.reportTo(late);
    monitor.reportTo(late);
    expect(codes(late.reports)).toEqual(['GH_DEPENDENCY_UNAVAILABLE']);
    const other = recorder();
    monitor.reportTo(other);
    monitor.succeeded();
    expect(codes(late.reports)).toEqual(['GH_DEPENDENCY_UNAVAILABLE', 'GH_DEPENDENCY_RECOVERED']);
    expect(codes(other.reports)).toEqual(['GH_DEPENDENCY_UNAVAILABLE', 'GH_DEPENDENCY_RECOVERED']);
  });

  it('names URLs without credentials, query or fragment', () => {
    expect(dependencyName('https://user:secret@idp.example:8443/jwks?key=k#x')).toBe(
      'https://idp.example:8443/jwks',
    );
    expect(dependencyName('not a url')).toBe('(invalid URL)');
  });
});

describe('Gateway reports through its logger', () => {
  it('logs an outage at error with its cause and the recovery at info; the channel sees both', () => {
    const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
    const logger = {
      error: (obj: object, msg: string) =>
        lines.push({ level: 'error', obj: obj as Record<string, unknown>, msg }),
      info: (obj: object, msg: string) =>
        lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
    };
    const gateway = new Gateway({}, { logger });
    const published: unknown[] = [];
    const listener = (message: unknown) => published.push(message);
    subscribe('gatehouse:error', listener);
    try {
      const monitor = new DependencyMonitor('etcd', 'http://127.0.0.1:2379');
      monitor.reportTo(gateway);
      const cause = new Error('14 UNAVAILABLE: No connection established');
      monitor.failed(cause);
      monitor.failed(cause);
      monitor.succeeded();
    } finally {
      unsubscribe('gatehouse:error', listener);
    }
    expect(lines.map((l) => l.level)).toEqual(['error', 'info']);
    expect(lines[0]!.msg).toBe(
      'etcd http://127.0.0.1:2379 is unavailable: 14 UNAVAILABLE: No connection established',
    );
    expect((lines[0]!.obj['err'] as Error).cause).toBeInstanceOf(Error);
    expect(lines[0]!.obj['phase']).toBe('dependency:etcd');
    expect(lines[1]!.msg).toMatch(/^etcd http:\/\/127\.0\.0\.1:2379 is available again after \d+ s$/);
    expect(published).toHaveLength(2);
    expect(published.every((m) => isGatehouseError((m as { error: unknown }).error))).toBe(true);
  });

  it('refuses a logger without error() and info()', () => {
    // Checked with the gateway's other options (gatewayOptionsSchema): one ConfigError, with its path.
    expect(() => new Gateway({}, { logger: { error() {} } as never })).toThrow(ConfigError);
    expect(() => new Gateway({}, { logger: { error() {} } as never })).toThrow(
      /gateway\.logger: expected a logger/,
    );
  });
});
