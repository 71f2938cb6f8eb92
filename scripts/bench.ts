// `npm run bench`: one JSON object of figures measured side by side in one run.
import '../main/polyfills.ts';
import { runEngineBench } from '../main/crr/bench.ts';
import { runSyncBench } from '../main/sync/bench.ts';

const result: Record<string, number> = { ...(await runEngineBench()), ...(await runSyncBench()) };
console.log(JSON.stringify(result));
process.exit(0);
