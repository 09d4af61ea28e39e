#!/usr/bin/env node
// `npm test`: build, typecheck and lint everything, run every vitest project, and end with one line
// `N passed, N failed, N skipped` taken from the runner's JSON report.
//
// GATEHOUSE_TEST_NODES=/path/to/node24[:/path/to/other] runs the test suite again on those Node
// binaries (the build is shared); .ci/run sets it to a Node 24 fetched from the npm registry.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const args = process.argv.slice(2);

function run(cmd, cmdArgs, env = {}) {
  const result = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status ?? 1;
}

function step(title, cmd, cmdArgs) {
  process.stderr.write(`\n▶ ${title}\n`);
  const status = run(cmd, cmdArgs);
  if (status !== 0) {
    process.stderr.write(`✗ ${title} failed\n`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

step('build', bin('turbo'), ['run', 'build', '--output-logs=errors-only']);
step('typecheck', bin('turbo'), ['run', 'typecheck', '--output-logs=errors-only']);
step('lint', bin('biome'), ['check', '.']);

const nodes = [process.execPath, ...(process.env.GATEHOUSE_TEST_NODES ?? '').split(':').filter(Boolean)];
const totals = { passed: 0, failed: 0, skipped: 0 };
let exitCode = 0;
for (const node of nodes) {
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  process.stderr.write(`\n▶ tests on Node ${version}\n`);
  const report = join(root, `.test-report.json`);
  rmSync(report, { force: true });
  // GATEHOUSE_BUILT: the build above is current, so no test file builds again (test/consumer).
  const status = run(
    node,
    [
      join(root, 'node_modules', 'vitest', 'vitest.mjs'),
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
      ...args,
    ],
    { GATEHOUSE_BUILT: '1' },
  );
  if (!existsSync(report)) {
    process.stderr.write(`✗ vitest on Node ${version} wrote no report (exit ${status})\n`);
    totals.failed += 1;
    exitCode = 1;
    continue;
  }
  const data = JSON.parse(readFileSync(report, 'utf8'));
  const passed = data.numPassedTests;
  // A file that failed without a failing test (an import that threw, a beforeAll that failed: its
  // tests are reported skipped) counts as one failure, so the last line never says 0 failed then.
  const failedFiles = (data.testResults ?? []).filter(
    (file) => file.status === 'failed' && !(file.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
  const failed = data.numFailedTests + failedFiles;
  const skipped = data.numPendingTests + data.numTodoTests;
  process.stderr.write(`  Node ${version}: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  totals.passed += passed;
  totals.failed += failed;
  totals.skipped += skipped;
  if (status !== 0 || failed > 0) exitCode = 1;
}
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(exitCode);
