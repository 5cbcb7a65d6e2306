// A containerd root as the tsctr commands open it (no daemon):
//   <root>/io.containerd.metadata.v1.bolt/meta.db   the metadata database
//   <root>/io.containerd.content.v1.content/        the content store (blobs/, ingest/)
// Read commands open meta.db read-only (the lock-free read path: they work while containerd holds it).
// Write commands open it read-write with a short lock timeout, so while a running containerd holds the
// lock they refuse before writing anything.
import { join } from 'node:path';
import { ErrTimeout } from '../../bolt/index.js';
import { openMetadata, type MetadataDB } from '../../metadata/index.js';
import { META_DB } from '../../metadata/root.js';

export { CONTENT_DIR, META_DB } from '../../metadata/root.js';

/** How long a write command waits for meta.db's lock before saying containerd holds it. */
export const WRITE_LOCK_TIMEOUT_MS = 500;

/** A write command found meta.db locked: containerd (or another writer) is running on the root. */
export class RootLockedError extends Error {
  readonly code = 'ERR_ROOT_LOCKED';
  constructor(path: string) {
    super(`${path} is locked by another process (is containerd running on this root?): stop it before writing`);
  }
}

/** meta.db read-only. */
export function openRootForRead(root: string): MetadataDB {
  return openMetadata(join(root, META_DB), { readOnly: true });
}

/** meta.db read-write; RootLockedError when its lock is not had within WRITE_LOCK_TIMEOUT_MS. */
export function openRootForWrite(root: string): MetadataDB {
  const path = join(root, META_DB);
  try {
    return openMetadata(path, { readOnly: false, timeout: WRITE_LOCK_TIMEOUT_MS });
  } catch (e) {
    if (e instanceof ErrTimeout) throw new RootLockedError(path);
    throw e;
  }
}

/** Runs fn on an opened database and closes it after, whatever fn does. */
export function closeAfter<T>(m: MetadataDB, fn: (m: MetadataDB) => T): T {
  try {
    return fn(m);
  } finally {
    m.close();
  }
}

/** closeAfter for an async fn: the database is closed once fn's promise settles. */
export async function closeAfterAsync<T>(m: MetadataDB, fn: (m: MetadataDB) => Promise<T>): Promise<T> {
  try {
    return await fn(m);
  } finally {
    m.close();
  }
}

export function withRootRead<T>(root: string, fn: (m: MetadataDB) => T): T {
  return closeAfter(openRootForRead(root), fn);
}

export function withRootWrite<T>(root: string, fn: (m: MetadataDB) => T): T {
  return closeAfter(openRootForWrite(root), fn);
}

export async function withRootWriteAsync<T>(root: string, fn: (m: MetadataDB) => Promise<T>): Promise<T> {
  return closeAfterAsync(openRootForWrite(root), fn);
}
