// `npm run bench`: one JSON object of figures measured side by side in one run.
import '../main/polyfills.ts';
import { runEngineBench } from '../main/crr/bench.ts';
import { runSyncBench } from '../main/sync/bench.ts';
import { runHostilePreauthBench } from '../main/sync/hostile-bench.ts';
import { runCrdtBench } from '../main/crr/crdt-bench.ts';

const result: Record<string, number | null> = { ...(await runEngineBench()), ...(await runSyncBench()) };
Object.assign(result, await runHostilePreauthBench());
// the text merge policy: merge throughput on a 10k-character cell, CRDT state size (main/crr/crdt-bench.ts)
Object.assign(result, await runCrdtBench());
console.log(JSON.stringify(result));
process.exit(0);
