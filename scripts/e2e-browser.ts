// The browser the e2e tests drive, found the usual ways, first match wins:
//  1. CRR_E2E_BROWSER: the path of a Chromium-family executable (Chrome, Chromium, Edge);
//  2. a system Chromium: /usr/bin/chromium (Debian, `apt-get install chromium`), /usr/bin/chromium-browser
//     (CRR_E2E_SYSTEM_BROWSERS, a path list, replaces these two; the runner's own tests set it);
//  3. Playwright's own Chromium, after `npx playwright install chromium` (macOS, Windows, any Linux;
//     PLAYWRIGHT_BROWSERS_PATH moves it, as Playwright documents).
// Used by playwright.config.ts (which executable to launch) and scripts/test.mjs (whether to run e2e at all).
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter } from 'node:path';
import { chromium } from '@playwright/test';

export type E2eBrowser =
  /** launch this executable */
  | { kind: 'env' | 'system'; executablePath: string }
  /** launch Playwright's own (no executablePath) */
  | { kind: 'playwright'; executablePath: string }
  | { kind: 'none'; looked: string }
  | { kind: 'invalid'; error: string };

export const DEFAULT_SYSTEM_BROWSERS = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The command that gets a browser on any system, for the one-line hint. */
export const GET_A_BROWSER = 'npx playwright install chromium';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function findE2eBrowser(env: NodeJS.ProcessEnv = process.env): E2eBrowser {
  const named = env.CRR_E2E_BROWSER;
  if (named) return executable(named) ? { kind: 'env', executablePath: named } : { kind: 'invalid', error: `CRR_E2E_BROWSER=${named} is not an executable file` };
  const system = env.CRR_E2E_SYSTEM_BROWSERS !== undefined ? env.CRR_E2E_SYSTEM_BROWSERS.split(delimiter).filter(Boolean) : DEFAULT_SYSTEM_BROWSERS;
  const found = system.find(executable);
  if (found) return { kind: 'system', executablePath: found };
  const own = chromium.executablePath();
  if (executable(own)) return { kind: 'playwright', executablePath: own };
  return { kind: 'none', looked: `CRR_E2E_BROWSER unset, ${system.length ? `none of ${system.join(', ')}` : 'no system browser paths'}, no Playwright Chromium at ${own}` };
}

/** The one line said when there is none: what was looked for and the commands that get one. */
export function noBrowserHint(b: { looked: string }): string {
  return `no browser for the e2e tests (${b.looked}): get one with \`${GET_A_BROWSER}\` (Debian/Ubuntu: \`sudo apt-get install chromium\`) or name one with CRR_E2E_BROWSER=/path/to/chromium`;
}
