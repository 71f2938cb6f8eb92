// `npm run crr -- <command> FILE`: engine maintenance from the command line.
//   new-site-id FILE   give a copied database file its own site id (run it on the copy)
//   info FILE          print the site id, db_version and CRR tables
//   prune FILE [N]     keep the newest N versions of each cell's history (default: the file's retention)
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { installCrr } from './index.ts';
import { renewSiteId } from './site-id.ts';
import { bytesToHex } from '../../shared/values.ts';

const [command, file, keep] = process.argv.slice(2);
if (!command || !file || !['new-site-id', 'info', 'prune'].includes(command)) {
  console.error('usage: npm run crr -- new-site-id FILE | info FILE | prune FILE [N]');
  process.exit(2);
}
if (!existsSync(file)) {
  console.error(`no such file: ${file}`);
  process.exit(2);
}
const db = new Database(file, { fileMustExist: true });
try {
  const engine = installCrr(db, { pollMs: 0 });
  if (command === 'new-site-id') {
    const before = bytesToHex(engine.siteId);
    engine.close();
    const after = bytesToHex(renewSiteId(db));
    console.log(`site id: ${before} -> ${after}`);
  } else if (command === 'prune') {
    if (keep !== undefined && !/^\d+$/.test(keep)) throw new Error('N must be a whole number');
    console.log(`removed ${engine.history.prune(keep === undefined ? undefined : Number(keep))} old versions`);
    engine.close();
  } else {
    console.log(JSON.stringify({ siteId: bytesToHex(engine.siteId), dbVersion: engine.dbVersion(), crrTables: engine.crrTables() }));
    engine.close();
  }
} catch (err) {
  console.error(`${file}: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  db.close();
}
