// `npm test`: type-check, unit and integration tests (vitest), end-to-end tests (Playwright),
// then one closing line "N passed, N failed, N skipped" summing all of them.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync, rmSync, existsSync, readdirSync } from 'node:fs';

const outDir = '.tmp/test-results';
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const totals = { passed: 0, failed: 0, skipped: 0 };
let ok = true;

function run(label, cmd, args, env = {}) {
  console.log(`\n=== ${label}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    console.log(`=== ${label} failed (exit ${r.status ?? r.signal})`);
    ok = false;
  }
  return r.status === 0;
}

const only = process.argv.slice(2);
const want = (step) => only.length === 0 || only.includes(step);

if (want('typecheck')) {
  if (run('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json'])) totals.passed++;
  else totals.failed++;
  const rendererFiles = existsSync('renderer') && readdirSync('renderer', { recursive: true }).some((f) => /\.(ts|svelte)$/.test(String(f)));
  if (!rendererFiles) console.log('\n=== typecheck renderer: no renderer sources yet, skipped');
  else if (run('typecheck renderer', 'npx', ['svelte-check', '--tsconfig', './tsconfig.web.json', '--threshold', 'error'])) totals.passed++;
  else totals.failed++;
}

if (want('unit')) {
  const file = `${outDir}/vitest.json`;
  run('unit', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${file}`]);
  try {
    const r = JSON.parse(readFileSync(file, 'utf8'));
    totals.passed += r.numPassedTests;
    totals.failed += r.numFailedTests + (r.numFailedTestSuites ?? 0);
    totals.skipped += r.numPendingTests + r.numTodoTests;
  } catch {
    totals.failed++;
  }
}

if (want('e2e') && !existsSync('playwright.config.ts')) {
  console.log('\n=== e2e: no playwright.config.ts yet, skipped');
} else if (want('e2e')) {
  const file = `${outDir}/playwright.json`;
  run('e2e', 'npx', ['playwright', 'test'], { PLAYWRIGHT_JSON_OUTPUT_NAME: file, PLAYWRIGHT_REPORTERS: 'json' });
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')).stats;
    totals.passed += s.expected + (s.flaky ?? 0);
    totals.failed += s.unexpected;
    totals.skipped += s.skipped;
  } catch {
    totals.failed++;
  }
}

console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(ok && totals.failed === 0 ? 0 : 1);
