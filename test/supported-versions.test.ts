// The supported framework versions are stated once per package README and agree with what the adapters
// declare as peers and with what this workspace installs and runs the conformance suite on.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, test } from 'vitest';

const root = new URL('../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const json = (path: string) => JSON.parse(read(path)) as Record<string, unknown>;
const require = createRequire(import.meta.url);

/** `[major, minor]` of an installed package (the aliases express4 and koa2 included). */
function installed(name: string): [number, number] {
  const { version } = require(`${name}/package.json`) as { version: string };
  const [major, minor] = version.split('.').map(Number);
  return [major!, minor!];
}

// What each adapter's README states, and the lowest minor of each major its peer range admits.
const STATED = {
  express: { line: 'Express 4.21+ and 5.1+', lowest: { 4: 21, 5: 1 } },
  koa: { line: 'Koa 2.15+ and 3', lowest: { 2: 15, 3: 0 } },
} as const;

test('every package README states the supported versions in one line', () => {
  const packages = readdirSync(new URL('packages/', root)).filter((name) =>
    existsSync(new URL(`packages/${name}/package.json`, root)),
  );
  expect(packages.length).toBeGreaterThan(5);
  const missing = packages.filter((name) => {
    const readme = new URL(`packages/${name}/README.md`, root);
    if (!existsSync(readme)) return true;
    const lines = readFileSync(readme, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('**Supported versions:**'));
    const [stated] = lines;
    return lines.length !== 1 || !stated!.includes('Node ≥ 20.19') || !/Express 4|Koa 2/.test(stated!);
  });
  expect(missing, 'packages whose README lacks the "**Supported versions:**" line').toEqual([]);
  expect(read('README.md')).toContain('Express 4 and 5, Koa 2 and 3');
});

test.each([
  ['express', 'packages/express', ['express', 'express4']],
  ['koa', 'packages/koa', ['koa', 'koa2']],
] as const)('%s: README, peer range and the versions the suite runs on agree', (framework, dir, modules) => {
  const { line, lowest } = STATED[framework];
  expect(read(`${dir}/README.md`)).toContain(`**Supported versions:** ${line}`);
  const peer = (json(`${dir}/package.json`).peerDependencies as Record<string, string>)[framework]!;
  const ranges = peer.split('||').map((r) => r.trim());
  expect(ranges).toEqual(
    Object.entries(lowest).map(([major, minor]) =>
      expect.stringMatching(new RegExp(`^\\^${major}\\.${minor}\\.0$`)),
    ),
  );
  // The conformance suite runs on one install of each major, inside the stated range.
  const majors = modules.map((name) => installed(name));
  expect(majors.map(([major]) => major).sort()).toEqual(Object.keys(lowest).map(Number).sort());
  for (const [major, minor] of majors) {
    expect(minor, `${framework} ${major}.${minor}`).toBeGreaterThanOrEqual(
      lowest[major as keyof typeof lowest],
    );
  }
});
