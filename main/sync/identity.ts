// The peer identity of this install: an Ed25519 key kept in the data folder, so peers recognise
// each other across restarts. One running process per identity: two peers with the same id on one
// machine cannot both be reached (each would dial itself), so the second is told in one line. The
// lock is a file beside the key holding the owner's pid; a lock whose process is gone is stale.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';

export async function loadIdentity(file: string): Promise<PrivateKey> {
  if (existsSync(file)) return privateKeyFromProtobuf(readFileSync(file));
  mkdirSync(dirname(file), { recursive: true });
  const key = await generateKeyPair('Ed25519');
  writeFileSync(file, privateKeyToProtobuf(key), { mode: 0o600 });
  return key;
}

export class IdentityInUse extends Error {}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // a reused pid after a reboot is some other program: only a Node or Electron process counts
  try {
    return /node|electron|crr-desk/i.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true;
  }
}

/** Takes the identity for this process; returns its release. Throws IdentityInUse. */
export function lockIdentity(file: string): () => void {
  const lock = `${file}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const pid = Number(readFileSync(lock, 'utf8').trim());
      if (Number.isSafeInteger(pid) && pid > 0 && alive(pid)) {
        throw new IdentityInUse(
          `the peer identity ${file} is in use by process ${pid}${pid === process.pid ? ' (this one)' : ''}: each peer on one machine needs its own data folder (--data DIR)`,
        );
      }
      rmSync(lock, { force: true });
    }
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    try {
      if (readFileSync(lock, 'utf8').trim() === String(process.pid)) rmSync(lock, { force: true });
    } catch {
      // already gone
    }
  };
  process.on('exit', release);
  return release;
}
