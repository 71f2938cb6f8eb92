// The CRDT state of one text cell (merge policy `text`): a Yjs document holding the cell's text
// as a Y.Text, stored compacted (Yjs's own garbage collection: deleted characters keep only
// their ids; Yjs's v2 encoding, which packs the 53-bit client ids below: 19.3 KB where v1 takes
// 33.4 KB for one cell after 1,000 edits) beside the table (text-cells.ts). The table's column
// keeps the plain text.
//
// Why Yjs (yjs 13.6), not Loro (loro-crdt 1.17): both were measured here on the issue's
// workloads (Node 20, this machine, the engine's way of working: load a cell's state, apply
// edits or a peer's state, store it again):
//   - a 10k-character cell edited concurrently by 3 replicas, each replica merging the two
//     others' full states per round: Yjs 974 edits/s, Loro 111 edits/s (live documents with
//     incremental updates: Yjs 9,015/s, Loro 643/s);
//   - state after 1,000 edits of a ~2k-character text (3,636 bytes of text left): Yjs 17,038 bytes
//     (v1 encoding), Loro 18,256 (snapshot; 7,318 as a shallow snapshot, which can no longer merge
//     edits concurrent with what it dropped);
//   - Yjs is plain JavaScript (the renderer merges remote edits into the text being typed with
//     it too: shared/text-edits.ts); Loro is a 22 MB WebAssembly package.
// Loro's 64-bit peer ids are its one advantage here; Yjs accepts client ids up to 2^53 (checked:
// both encodings round-trip them), which is what sites get below.
//
// Determinism across replicas:
//   - each replica writes with its own client id, derived from its site id (53 of its random
//     bits), so no two replicas ever make ops with the same ids;
//   - a cell's first edit under the policy starts from the text the edit replaced. Every replica
//     that edits from that same version builds the same "genesis": that text inserted by a client
//     id derived from the version's identity (cell, life, policy epoch, writer, col_version). The
//     geneses are byte-identical, so they merge as one, and each replica's edits apply on top.
//   - Yjs changes a document's client id when a loaded update holds ops of that id; documents are
//     therefore loaded under a throwaway id and given the writer's id only to edit.
import * as Y from 'yjs';
import { createHash } from 'node:crypto';
import { applyTextEdits, textEdits } from '../../shared/text-edits.ts';

const TEXT = 't';
const MAX_CLIENT = 2 ** 53;

/** The Yjs client id a site writes with: 53 bits of its (random) id. */
export function clientOfSite(site: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < 7; i++) n = n * 256 + site[i];
  return n % MAX_CLIENT;
}

/** The client id of a genesis: a hash of the version it starts from. */
export function genesisClient(parts: (string | number)[]): number {
  const h = createHash('sha256').update(JSON.stringify(parts)).digest();
  let n = 0;
  for (let i = 0; i < 7; i++) n = n * 256 + h[i];
  return n % MAX_CLIENT;
}

function load(state: Uint8Array | null): Y.Doc {
  const doc = new Y.Doc();
  if (state) Y.applyUpdateV2(doc, state);
  return doc;
}

export const stateOf = (doc: Y.Doc): Uint8Array => Y.encodeStateAsUpdateV2(doc);

export function textOfState(state: Uint8Array): string {
  return load(state).getText(TEXT).toString();
}

/** A genesis state: `text` inserted by `client` (empty text: an empty state). */
export function genesis(client: number, text: string): Uint8Array {
  const doc = new Y.Doc();
  doc.clientID = client;
  if (text) doc.getText(TEXT).insert(0, text);
  return stateOf(doc);
}

/**
 * The state after `client` changed the text of `state` to `to`, as character edits (diffed
 * against its current text). Returns null when the text already is `to`.
 */
export function editTo(state: Uint8Array, client: number, to: string): Uint8Array | null {
  const doc = load(state);
  const text = doc.getText(TEXT);
  const from = text.toString();
  if (from === to) return null;
  doc.clientID = client;
  doc.transact(() => applyTextEdits(text, textEdits(from, to)));
  return stateOf(doc);
}

/**
 * Merges a peer's state into ours (null: none yet). `grew`: ours gained something; `covers`:
 * theirs already holds everything ours held (so what we store is exactly theirs).
 */
export function mergeStates(ours: Uint8Array | null, theirs: Uint8Array): { state: Uint8Array; text: string; grew: boolean; covers: boolean } {
  const them = checked(theirs);
  if (!ours) return { state: theirs, text: them.getText(TEXT).toString(), grew: true, covers: true };
  const doc = load(ours);
  let grew = false;
  doc.on('update', () => (grew = true));
  Y.applyUpdateV2(doc, theirs);
  if (!grew) return { state: ours, text: doc.getText(TEXT).toString(), grew, covers: false };
  let extra = false;
  them.on('update', () => (extra = true));
  Y.applyUpdateV2(them, ours);
  return { state: stateOf(doc), text: doc.getText(TEXT).toString(), grew, covers: !extra };
}

/** A peer's state as a document, checked to be a Yjs (v2) update holding only a text and all it depends on. */
function checked(bytes: Uint8Array): Y.Doc {
  let doc: Y.Doc;
  try {
    doc = load(bytes);
  } catch (err) {
    throw new StateRefused(`not a text state (${(err as Error).message})`);
  }
  for (const key of doc.share.keys()) if (key !== TEXT) throw new StateRefused(`a text state holds an unexpected part ${JSON.stringify(key)}`);
  if (doc.store.pendingStructs !== null || doc.store.pendingDs !== null) throw new StateRefused('a text state depends on edits it does not hold');
  return doc;
}

export class StateRefused extends Error {}
