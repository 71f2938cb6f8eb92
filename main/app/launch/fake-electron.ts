// Test fixtures for `npm start`'s Electron path, all local: a copy of the installed electron
// package without its binary (so a test never depends on, or writes to, node_modules/electron), a
// stand-in `electron` executable that records its arguments, a zip of it as Electron's releases
// ship, and a mirror on 127.0.0.1 that serves that zip (or refuses, or stalls).
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const realPackage = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
export const electronVersion: string = JSON.parse(readFileSync(join(realPackage, 'package.json'), 'utf8')).version;

/** A copy of the electron package in `dir` (install.js, checksums, package.json; its deps linked), no dist. */
export function electronPackageCopy(dir: string): string {
  const pkg = join(dir, 'electron');
  mkdirSync(join(pkg, 'node_modules'), { recursive: true });
  for (const f of ['package.json', 'install.js', 'index.js', 'checksums.json']) copyFileSync(join(realPackage, f), join(pkg, f));
  // install.js requires @electron/get and @electron-internal/extract-zip: link the real ones
  const req = createRequire(join(realPackage, 'install.js'));
  for (const [dep, depth] of [['@electron/get', 3], ['@electron-internal/extract-zip', 2]] as const) {
    let scope = req.resolve(dep); // …/node_modules/@scope/name/[dist/]index.js
    for (let i = 0; i < depth; i++) scope = dirname(scope);
    symlinkSync(scope, join(pkg, 'node_modules', dep.split('/')[0]));
  }
  return pkg;
}

/**
 * The stand-in for Electron's binary: appends its arguments (one per line, then a blank line) to
 * $CRR_FAKE_ELECTRON_LOG, says it started the way electron-main does, and exits with
 * $CRR_FAKE_ELECTRON_EXIT; with $CRR_FAKE_ELECTRON_FAIL set it prints that to stderr and exits
 * 127 before starting, as a binary missing its shared libraries does.
 */
export const STAND_IN = `#!/bin/sh
if [ -n "$CRR_FAKE_ELECTRON_FAIL" ]; then echo "$CRR_FAKE_ELECTRON_FAIL" >&2; exit 127; fi
for a in "$@"; do echo "$a" >> "$CRR_FAKE_ELECTRON_LOG"; done
echo >> "$CRR_FAKE_ELECTRON_LOG"
[ -n "$CRR_DESK_STARTED_FILE" ] && echo started > "$CRR_DESK_STARTED_FILE"
exit "\${CRR_FAKE_ELECTRON_EXIT:-0}"
`;

/** Puts the stand-in into the package copy as an installed Electron (dist/, dist/version, path.txt). */
export function installStandIn(pkg: string): string {
  mkdirSync(join(pkg, 'dist'), { recursive: true });
  writeFileSync(join(pkg, 'dist', 'electron'), STAND_IN);
  chmodSync(join(pkg, 'dist', 'electron'), 0o755);
  writeFileSync(join(pkg, 'dist', 'version'), electronVersion);
  writeFileSync(join(pkg, 'path.txt'), 'electron');
  return join(pkg, 'dist', 'electron');
}

/** The arguments of each run the stand-in logged. */
export function standInRuns(log: string): string[][] {
  let text = '';
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n\n')
    .filter((run) => run.length > 0)
    .map((run) => run.split('\n').filter((a) => a !== ''));
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip (stored, unix modes) of the given files, as Node 20 has no zip writer. */
export function zip(files: { name: string; data: Buffer; mode: number }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name);
    const crc = crc32(f.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(f.data.length, 18);
    local.writeUInt32LE(f.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made on unix: the external attributes carry the mode
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(f.data.length, 20);
    central.writeUInt32LE(f.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((0o100000 | f.mode) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, f.data);
    centrals.push(central, name);
    offset += local.length + name.length + f.data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** The zip Electron's release would be, holding the stand-in. */
export function standInRelease(): Buffer {
  return zip([
    { name: 'electron', data: Buffer.from(STAND_IN), mode: 0o755 },
    { name: 'version', data: Buffer.from(electronVersion), mode: 0o644 },
  ]);
}

/** A mirror URL on 127.0.0.1 where nothing listens (a port just freed). */
export async function unreachableMirror(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/`;
}

export interface Mirror {
  /** ELECTRON_MIRROR for it (ends with '/'). */
  url: string;
  requests: string[];
  close(): Promise<void>;
}

/**
 * A mirror on 127.0.0.1: 'serve' answers with `release` and its SHASUMS256.txt (for
 * electron_use_remote_checksums), 'stall' accepts and never answers, 'empty' has no files (404).
 */
export async function startMirror(mode: 'serve' | 'stall' | 'empty', release = standInRelease()): Promise<Mirror> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (mode === 'stall') return;
    if (mode === 'empty') {
      res.writeHead(404).end();
      return;
    }
    const file = `electron-v${electronVersion}-${process.platform}-${process.arch}.zip`;
    if (req.url === `/v${electronVersion}/${file}`) {
      res.writeHead(200, { 'Content-Type': 'application/zip', 'Content-Length': release.length }).end(release);
    } else if (req.url === `/v${electronVersion}/SHASUMS256.txt`) {
      res.writeHead(200).end(`${createHash('sha256').update(release).digest('hex')} *${file}\n`);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
