// meta.db files for the metadata tests.
import { open } from '../../src/bolt/index.js';
import { createMetadata, encodeVarint } from '../../src/metadata/index.js';

/** A new meta.db at `path` as containerd creates one: dbVersion 3 (1.6/1.7), or raised to 4 (2.x). */
export function createMetaDB(path: string, dbVersion: 3 | 4): void {
  createMetadata(path).close();
  if (dbVersion === 4) {
    const db = open(path);
    db.update((tx) => tx.bucket('v1')!.put('version', encodeVarint(4)));
    db.close();
  }
}
