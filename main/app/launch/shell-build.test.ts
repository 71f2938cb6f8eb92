// Staleness on real files with set modification times, and builds through real `npm run`.
import { describe, it, expect, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../crr/test-helpers.ts';
import { buildIfStale, staleness, type BuildStep } from './shell-build.ts';

const tmp = tempDir('shell-build-');
afterAll(() => tmp.cleanup());

function file(root: string, rel: string, secondsAgo: number, text = 'x'): void {
  mkdirSync(join(root, rel, '..'), { recursive: true });
  writeFileSync(join(root, rel), text);
  const t = Date.now() / 1000 - secondsAgo;
  utimesSync(join(root, rel), t, t);
}

const step: BuildStep = { name: 'the thing', script: 'build:thing', outputs: ['out/a.js', 'out/b.js'], sources: ['src', 'config.ts'] };

describe('staleness', () => {
  it('needs a build when an output is missing', () => {
    const root = join(tmp.dir, 'missing');
    file(root, 'src/x.ts', 100);
    file(root, 'out/a.js', 10);
    expect(staleness(step, root)).toBe('out/b.js is missing');
  });

  it('needs a build when any source is newer than the oldest output, naming both', () => {
    const root = join(tmp.dir, 'newer');
    file(root, 'src/deep/x.ts', 100);
    file(root, 'out/a.js', 50);
    file(root, 'out/b.js', 20);
    expect(staleness(step, root)).toBeNull();
    file(root, 'src/deep/y.svelte', 30);
    expect(staleness(step, root)).toBe('src/deep/y.svelte is newer than out/a.js');
    file(root, 'out/a.js', 5);
    expect(staleness(step, root)).toBeNull();
    file(root, 'config.ts', 1);
    expect(staleness(step, root)).toBe('config.ts is newer than out/b.js');
  });

  it('ignores tests, dot files and node_modules among the sources, and sources that do not exist', () => {
    const root = join(tmp.dir, 'ignored');
    file(root, 'out/a.js', 50);
    file(root, 'out/b.js', 50);
    file(root, 'src/x.test.ts', 1);
    file(root, 'src/.cache/y', 1);
    file(root, 'src/node_modules/z.js', 1);
    expect(staleness(step, root)).toBeNull();
  });
});

describe('building', () => {
  const project = (name: string, script: string) => {
    const root = join(tmp.dir, name);
    file(root, 'src/x.ts', 100);
    file(root, 'package.json', 100, JSON.stringify({ name, private: true, scripts: { 'build:thing': script } }));
    return root;
  };

  it('runs the npm script when stale, and not again when fresh', () => {
    const root = project('builds', `node -e "const fs=require('fs');fs.mkdirSync('out',{recursive:true});fs.writeFileSync('out/a.js','a');fs.writeFileSync('out/b.js','b');fs.appendFileSync('runs','.')"`);
    expect(buildIfStale(step, root)).toBeNull();
    expect(staleness(step, root)).toBeNull();
    expect(buildIfStale(step, root)).toBeNull();
    expect(readFileSync(join(root, 'runs'), 'utf8')).toBe('.');
  });

  it('builds once when two processes find it stale together; the other waits and finds it fresh', async () => {
    // the build takes a while (a second) so that the other process looks while it runs
    const root = project('together', `node -e "const fs=require('fs');fs.appendFileSync('runs','.');setTimeout(()=>{fs.mkdirSync('out',{recursive:true});fs.writeFileSync('out/a.js','a');fs.writeFileSync('out/b.js','b')},1000)"`);
    const code = `import { buildIfStale } from ${JSON.stringify(join(import.meta.dirname, 'shell-build.ts'))}; console.log(JSON.stringify(buildIfStale(${JSON.stringify(step)}, ${JSON.stringify(root)})))`;
    const one = () =>
      new Promise<string>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.on('exit', () => resolve(out.trim().split('\n').at(-1) ?? ''));
      });
    expect(await Promise.all([one(), one()])).toEqual(['null', 'null']);
    expect(readFileSync(join(root, 'runs'), 'utf8')).toBe('.');
  }, 30_000);

  it('says which build failed and how', () => {
    expect(buildIfStale(step, project('fails', 'node -e "process.exit(3)"'))).toBe('building the thing failed (npm run build:thing exited with 3)');
    expect(buildIfStale(step, project('writes-nothing', 'node -e ""'))).toBe('building the thing did not write out/a.js');
  });
});
