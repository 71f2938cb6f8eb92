// The e2e browser lookup on real files: named by CRR_E2E_BROWSER, found among the system paths,
// or Playwright's own (in a subprocess, as Playwright reads PLAYWRIGHT_BROWSERS_PATH when loaded).
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from '../main/crr/test-helpers.ts';
import { findE2eBrowser, noBrowserHint } from './e2e-browser.ts';

const tmp = tempDir('e2e-browser-');
afterAll(() => tmp.cleanup());

function exe(path: string, mode = 0o755): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, mode);
  return path;
}

/** findE2eBrowser() in a fresh process with `env`. */
function lookupIn(env: NodeJS.ProcessEnv): unknown {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', "import { findE2eBrowser } from './scripts/e2e-browser.ts'; console.log(JSON.stringify(findE2eBrowser()))"], {
    env: { ...process.env, CRR_E2E_BROWSER: '', ...env },
    encoding: 'utf8',
  });
  return JSON.parse(r.stdout);
}

describe('the e2e browser', () => {
  it('is the executable CRR_E2E_BROWSER names, before any other', () => {
    const named = exe(join(tmp.dir, 'my chrome'));
    const system = exe(join(tmp.dir, 'usr', 'bin', 'chromium'));
    expect(findE2eBrowser({ CRR_E2E_BROWSER: named, CRR_E2E_SYSTEM_BROWSERS: system })).toEqual({ kind: 'env', executablePath: named });
  });

  it('refuses a CRR_E2E_BROWSER that is not an executable file, rather than looking elsewhere', () => {
    const plain = exe(join(tmp.dir, 'not-executable'), 0o644);
    const system = exe(join(tmp.dir, 'usr', 'bin', 'chromium'));
    for (const bad of [plain, join(tmp.dir, 'missing'), tmp.dir])
      expect(findE2eBrowser({ CRR_E2E_BROWSER: bad, CRR_E2E_SYSTEM_BROWSERS: system })).toEqual({ kind: 'invalid', error: `CRR_E2E_BROWSER=${bad} is not an executable file` });
  });

  it('takes the first system path that holds an executable', () => {
    const second = exe(join(tmp.dir, 'sys2', 'chromium-browser'));
    exe(join(tmp.dir, 'sys1', 'chromium'), 0o644);
    const paths = [join(tmp.dir, 'sys0', 'chromium'), join(tmp.dir, 'sys1', 'chromium'), second].join(':');
    expect(findE2eBrowser({ CRR_E2E_SYSTEM_BROWSERS: paths })).toEqual({ kind: 'system', executablePath: second });
  });

  it('falls back to Playwright\'s own Chromium when installed, and else says there is none and how to get one', () => {
    const browsers = join(tmp.dir, 'ms-playwright');
    const none = lookupIn({ CRR_E2E_SYSTEM_BROWSERS: join(tmp.dir, 'nothing'), PLAYWRIGHT_BROWSERS_PATH: browsers }) as { kind: string; looked: string };
    expect(none.kind).toBe('none');
    expect(none.looked).toMatch(new RegExp(`^CRR_E2E_BROWSER unset, none of ${join(tmp.dir, 'nothing')}, no Playwright Chromium at ${browsers}/`));
    expect(noBrowserHint(none)).toMatch(/`npx playwright install chromium`.*CRR_E2E_BROWSER=/);
    // what `npx playwright install chromium` would put there
    const own = exe(none.looked.slice(none.looked.indexOf(browsers)));
    expect(lookupIn({ CRR_E2E_SYSTEM_BROWSERS: '', PLAYWRIGHT_BROWSERS_PATH: browsers })).toEqual({ kind: 'playwright', executablePath: own });
  });
});
