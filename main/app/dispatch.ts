// One place that turns a bridge request into a service call, for the WebSocket and Electron IPC.
import type { ApiErrorCode, ApiMethod } from '../../shared/api.ts';
import { ApiError } from '../../shared/errors.ts';
import type { DatabaseService } from './service.ts';

/** The calls this build answers. */
export const BRIDGED_METHODS: readonly ApiMethod[] = [
  'openDatabase', 'currentDatabase', 'recentFiles', 'listTables', 'tableSchema', 'readRows', 'countRows', 'rowPosition', 'updateCell', 'updateCells',
  'insertRow', 'deleteRows', 'runQuery', 'countQuery', 'enableCrr', 'disableCrr', 'importCsv',
  'shareDatabase', 'joinDatabase', 'rotateShareKey', 'listPeers', 'syncStatus', 'dialPeer', 'setSyncPaused',
  'cellHistory', 'listConflicts', 'resolveConflict', 'mergePolicies', 'setMergePolicy', 'tableActivity', 'counterContributions',
  // issue 14: structure editing, rebuilds, the writable SQL console
  'runSql', 'sqlHistory', 'previewSchemaChange', 'applySchemaChange', 'crrProblems',
  // schema changes from peers
  'schemaChanges', 'confirmSchemaChange', 'setSchemaAutoApply', 'droppedHistory',
  // issue 15: files (export, import, the file picker) and install settings
  'exportRows', 'previewImport', 'importFile', 'listDirectory', 'chooseFile', 'appSettings', 'setAppSettings',
  // issue 15 habits: foreign keys
  'referencingRows',
];

export type DispatchResult = { result: unknown } | { error: { code: ApiErrorCode; message: string } };

export async function dispatch(service: DatabaseService, method: unknown, params: unknown): Promise<DispatchResult> {
  try {
    if (typeof method !== 'string' || !BRIDGED_METHODS.includes(method as ApiMethod)) {
      throw new ApiError('not-found', `Unknown method ${JSON.stringify(method)}.`);
    }
    const call = service[method as keyof DatabaseService] as (p: unknown) => Promise<unknown>;
    return { result: (await call.call(service, params ?? {})) ?? null };
  } catch (err) {
    if (err instanceof ApiError) return { error: { code: err.code, message: err.message } };
    console.error(`${String(method)} failed:`, err);
    return { error: { code: 'internal', message: (err as Error)?.message ?? String(err) } };
  }
}
