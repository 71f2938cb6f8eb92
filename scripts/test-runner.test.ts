// `npm test`'s runner (scripts/test.mjs) on a machine without a browser for the e2e tests: one
// line saying so and how to get one, the e2e tests counted as not run in the closing line, and
// an exit status that fails only where e2e is required (CRR_E2E_REQUIRED=1, as .ci/run sets).
// The lookup is pointed away from this machine's browsers, whatever it has installed.
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from '../main/crr/test-helpers.ts';

const tmp = tempDir('test-runner-');
afterAll(() => tmp.cleanup());
const noBrowser = { CRR_E2E_BROWSER: '', CRR_E2E_SYSTEM_BROWSERS: join(tmp.dir, 'no-chromium'), PLAYWRIGHT_BROWSERS_PATH: join(tmp.dir, 'no-playwright-browsers') };

function runner(steps: string[], env: NodeJS.ProcessEnv): { status: number | null; lines: string[] } {
  const r = spawnSync(process.execPath, ['scripts/test.mjs', ...steps], {
    env: { ...process.env, CRR_E2E_REQUIRED: '', CRR_TEST_RESULTS_DIR: join(tmp.dir, 'results'), ...env },
    encoding: 'utf8',
  });
  return { status: r.status, lines: `${r.stdout}${r.stderr}`.trim().split('\n') };
}

const listed = () => Number(/^Total: (\d+) tests? in/m.exec(spawnSync('npx', ['playwright', 'test', '--list'], { encoding: 'utf8' }).stdout)?.[1]);

describe('npm test without a browser', () => {
  it('says so in one line, counts the e2e tests as not run, and passes', () => {
    const { status, lines } = runner(['e2e'], noBrowser);
    const hint = lines.filter((l) => l.includes('no browser for the e2e tests'));
    expect(hint).toHaveLength(1);
    expect(hint[0]).toMatch(/^=== e2e not run: no browser for the e2e tests \(.+\): get one with `npx playwright install chromium`/);
    expect(lines).not.toContainEqual(expect.stringMatching(/^=== e2e: npx playwright test/));
    const n = listed();
    expect(n).toBeGreaterThan(0);
    expect(lines.at(-1)).toBe(`0 passed, 0 failed, 0 skipped, ${n} not run (no browser: npx playwright install chromium)`);
    expect(status).toBe(0);
  }, 60_000);

  it('fails where the e2e tests are required', () => {
    const { status, lines } = runner(['e2e'], { ...noBrowser, CRR_E2E_REQUIRED: '1' });
    expect(lines).toContain('=== e2e failed: CRR_E2E_REQUIRED=1 and the e2e tests did not run');
    expect(lines.at(-1)).toMatch(/^0 passed, 0 failed, 0 skipped, \d+ not run \(no browser: npx playwright install chromium\)$/);
    expect(status).toBe(1);
  }, 60_000);

  it('fails, saying why, when CRR_E2E_BROWSER names no executable', () => {
    const { status, lines } = runner(['e2e'], { ...noBrowser, CRR_E2E_BROWSER: join(tmp.dir, 'missing-chrome') });
    expect(lines).toContain(`=== e2e failed: CRR_E2E_BROWSER=${join(tmp.dir, 'missing-chrome')} is not an executable file`);
    expect(lines.at(-1)).toBe('0 passed, 1 failed, 0 skipped');
    expect(status).toBe(1);
  }, 60_000);
});
