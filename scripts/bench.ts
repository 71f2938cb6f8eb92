// `npm run bench`: one JSON object of figures measured side by side in one run.
import '../main/polyfills.ts';
import { runEngineBench } from '../main/crr/bench.ts';
import { runSyncBench } from '../main/sync/bench.ts';
import { runHostilePreauthBench } from '../main/sync/hostile-bench.ts';

const result: Record<string, number | null> = { ...(await runEngineBench()), ...(await runSyncBench()) };
Object.assign(result, await runHostilePreauthBench());
console.log(JSON.stringify(result));
process.exit(0);
