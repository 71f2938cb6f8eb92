// The launch through the stand-in binary (a real process, its stderr, its exit), and the one line
// read from what real Electron prints when it cannot come up.
import { describe, it, expect, afterAll } from 'vitest';
import { join } from 'node:path';
import { tempDir } from '../../crr/test-helpers.ts';
import { electronPackageCopy, installStandIn, standInRuns } from './fake-electron.ts';
import { launchElectron, launchFailure, type LaunchResult } from './electron-launch.ts';

const tmp = tempDir('electron-launch-');
afterAll(() => tmp.cleanup());
const binary = installStandIn(electronPackageCopy(tmp.dir));
const log = join(tmp.dir, 'runs.log');

describe('launching Electron', () => {
  it('runs the binary with the arguments and knows it came up, whatever its exit', async () => {
    const r = await launchElectron(binary, ['/out/main/electron-main.cjs', '/data/a b.db'], { ...process.env, CRR_FAKE_ELECTRON_LOG: log, CRR_FAKE_ELECTRON_EXIT: '3' });
    expect(r).toMatchObject({ started: true, code: 3, signal: null });
    expect(standInRuns(log).at(-1)).toEqual(['/out/main/electron-main.cjs', '/data/a b.db']);
  });

  it('knows when it exited before coming up, and keeps what it said', async () => {
    const r = await launchElectron(binary, [], { ...process.env, CRR_FAKE_ELECTRON_FAIL: 'electron: error while loading shared libraries: libnss3.so: cannot open shared object file' });
    expect(r).toMatchObject({ started: false, code: 127 });
    expect(launchFailure(r)).toBe('Electron exited before it came up (exit code 127): electron: error while loading shared libraries: libnss3.so: cannot open shared object file');
  });

  it('says so when the binary cannot be run at all', async () => {
    const r = await launchElectron(join(tmp.dir, 'no-such-binary'), [], process.env);
    expect(r.started).toBe(false);
    expect(launchFailure(r)).toMatch(/^Electron exited before it came up \(could not be run\): spawn .*no-such-binary ENOENT$/);
  });
});

describe('why Electron did not come up', () => {
  const result = (stderr: string, code: number | null = 1, signal: string | null = null): LaunchResult => ({ started: false, code, signal, stderr });

  it('prefers a FATAL line, then a known cause, over the noise before it', () => {
    const root = '[1:2/3.4:ERROR:bus.cc(407)] Failed to connect to the bus: Could not parse server address\n[5:6/7.8:FATAL:electron_main_delegate.cc(287)] Running as root without --no-sandbox is not supported.\n';
    expect(launchFailure(result(root, null, 'SIGTRAP'))).toBe('Electron exited before it came up (killed by SIGTRAP): Running as root without --no-sandbox is not supported.');
    const x11 = '[1:2/3.4:ERROR:bus.cc(407)] Failed to connect to the bus\n[1:2/3.4:ERROR:ozone_platform_x11.cc(246)] Missing X server or $DISPLAY\n[1:2/3.4:ERROR:env.cc(257)] The platform failed to initialize.  Exiting.\n';
    expect(launchFailure(result(x11))).toBe('Electron exited before it came up (exit code 1): Missing X server or $DISPLAY');
  });

  it('falls back to any error line, the last line, or just the exit', () => {
    expect(launchFailure(result('hello\nsomething failed here\nbye\n'))).toBe('Electron exited before it came up (exit code 1): something failed here');
    expect(launchFailure(result('hello\nbye\n', 2))).toBe('Electron exited before it came up (exit code 2): bye');
    expect(launchFailure(result('', 2))).toBe('Electron exited before it came up (exit code 2)');
  });
});
