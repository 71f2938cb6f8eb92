// `npm test`: type-check, unit and integration tests (vitest), end-to-end tests (Playwright),
// then one closing line "N passed, N failed, N skipped" summing all of them. Without a browser for
// the e2e tests (scripts/e2e-browser.ts says where it looks) it says so in one line, runs the rest,
// and the line ends ", N not run (no browser: …)"; that fails the run only with CRR_E2E_REQUIRED=1
// (CI). `node scripts/test.mjs [typecheck] [unit] [e2e]` runs only those steps;
// CRR_TEST_RESULTS_DIR moves the reports (default .tmp/test-results).
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tsImport } from 'tsx/esm/api';

const outDir = process.env.CRR_TEST_RESULTS_DIR || '.tmp/test-results';
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const totals = { passed: 0, failed: 0, skipped: 0, notRun: 0 };
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

/** How many tests Playwright would run (it lists them without a browser), or null when it cannot list them. */
function countE2eTests() {
  const r = spawnSync('npx', ['playwright', 'test', '--list', '--reporter=json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  try {
    const report = JSON.parse(r.stdout);
    if (report.errors?.length) return null;
    let n = 0;
    const walk = (suite) => {
      for (const spec of suite.specs ?? []) n += spec.tests.length;
      for (const child of suite.suites ?? []) walk(child);
    };
    report.suites.forEach(walk);
    return n;
  } catch {
    return null;
  }
}

if (want('e2e') && !existsSync('playwright.config.ts')) {
  console.log('\n=== e2e: no playwright.config.ts yet, skipped');
} else if (want('e2e')) {
  const { findE2eBrowser, noBrowserHint, GET_A_BROWSER } = await tsImport('./e2e-browser.ts', import.meta.url);
  const browser = findE2eBrowser(process.env);
  if (browser.kind === 'invalid') {
    console.log(`\n=== e2e failed: ${browser.error}`);
    totals.failed++;
    ok = false;
  } else if (browser.kind === 'none') {
    console.log(`\n=== e2e not run: ${noBrowserHint(browser)}`);
    const count = countE2eTests();
    if (count === null) {
      console.log('=== e2e failed: `npx playwright test --list` could not list the tests');
      totals.failed++;
    } else totals.notRun += count;
    if (process.env.CRR_E2E_REQUIRED === '1') {
      console.log('=== e2e failed: CRR_E2E_REQUIRED=1 and the e2e tests did not run');
      ok = false;
    }
    totals.hint = GET_A_BROWSER;
  } else {
    console.log(`\n=== e2e browser: ${browser.executablePath} (${browser.kind === 'env' ? 'CRR_E2E_BROWSER' : browser.kind})`);
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
}

const notRun = totals.notRun ? `, ${totals.notRun} not run (no browser: ${totals.hint})` : '';
console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped${notRun}`);
process.exit(ok && totals.failed === 0 ? 0 : 1);
