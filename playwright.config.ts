import { defineConfig } from '@playwright/test';
import { findE2eBrowser } from './scripts/e2e-browser.ts';

const json = process.env.PLAYWRIGHT_REPORTERS === 'json';
const browser = findE2eBrowser();
if (browser.kind === 'invalid') throw new Error(browser.error);

export default defineConfig({
  testDir: 'e2e',
  timeout: 60_000,
  workers: 1,
  reporter: json ? [['list'], ['json', { outputFile: process.env.PLAYWRIGHT_JSON_OUTPUT_NAME }]] : 'list',
  globalSetup: './e2e/global-setup.ts',
  use: {
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      // a named or system Chromium; Playwright's own when that is what was found (or none: Playwright then says how to install it)
      executablePath: browser.kind === 'env' || browser.kind === 'system' ? browser.executablePath : undefined,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
});
