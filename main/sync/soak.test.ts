// The fault-injection soak (soak.ts), short in CI. The long run:
//   CRR_SYNC_SOAK_PEERS=6 CRR_SYNC_SOAK_SECONDS=600 CRR_SYNC_SOAK_SEED=7 CRR_NO_MDNS=1 npx vitest run main/sync/soak.test.ts
import { describe, expect, it } from 'vitest';
import { runSoak } from './soak.ts';

const PEERS = Number(process.env.CRR_SYNC_SOAK_PEERS ?? 4);
const SECONDS = Number(process.env.CRR_SYNC_SOAK_SECONDS ?? 20);
const SEED = Number(process.env.CRR_SYNC_SOAK_SEED ?? 1);

describe('fault-injection soak', () => {
  it(`${PEERS} peers through faulty links for ${SECONDS} s, killed, stopped and written by other programs, converge with nothing lost`, async () => {
    const r = await runSoak({ peers: PEERS, seconds: SECONDS, seed: SEED, log: (l) => console.log(l) });
    console.log(
      `soak (seed ${SEED}): ${r.peers} peers, ${r.links} links; ops ${r.ops} (busy ${r.busy}), kills ${r.kills}, stops ${r.stops}, ` +
        `partitions ${r.partitions}, cuts ${r.cuts}, slowdowns ${r.slowdowns}, reorders ${r.reorders}; ` +
        `convergence ${r.converged ? `${r.convergenceMs} ms` : 'none'}, lost writes ${r.lostWrites}, files failing integrity_check ${r.integrityFailures}, divergent files ${r.divergentFiles}`,
    );
    expect(r.bypassed).toBe(false);
    expect(r.converged).toBe(true);
    expect(r.divergentFiles).toBe(0);
    expect(r.lostWrites).toBe(0);
    expect(r.integrityFailures).toBe(0);
    expect(r.ops).toBeGreaterThan(100);
    expect(r.kills + r.stops).toBeGreaterThan(0);
    expect(r.partitions).toBeGreaterThan(0);
  }, (SECONDS + 200) * 1000);
});
