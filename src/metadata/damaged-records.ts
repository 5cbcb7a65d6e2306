// Records that cannot be decoded. By default a listing fails on the first one, as containerd's
// List does (and ctr prints its error). A reader that asks for it (tsctr --salvage) has each such
// record reported to a handler and left out, so the rest of the listing still shows:
//
//   MetadataDB opened with onDamagedRecord: h  ->  every view() registers h on its transaction
//   listImages(tx, ns) ... readRecord(tx, 'image', ns, name, decode)
//     decode throws a MetadataError (a bad varint, time, protobuf, a missing bucket)
//       -> h({ kind: 'image', namespace: ns, key: name, error }) and the record is skipped
//     any other error (the engine's, a bug) propagates as before.
import type { Tx } from '../bolt/index.js';
import { MetadataError } from './errors.js';

export type RecordKind = 'namespace' | 'image' | 'container' | 'content' | 'ingest' | 'lease' | 'sandbox' | 'snapshot';

export interface DamagedRecord {
  kind: RecordKind;
  /** The namespace of the record ("" for a namespace's own record). */
  namespace: string;
  /** Its key in its bucket: an image name, a digest, an id, a snapshot key. */
  key: string;
  error: MetadataError;
}

export type DamagedRecordHandler = (r: DamagedRecord) => void;

const handlers = new WeakMap<Tx, DamagedRecordHandler>();

/** Records of `tx` that cannot be decoded go to `h` and are left out of listings. */
export function reportDamagedRecords(tx: Tx, h: DamagedRecordHandler): void {
  handlers.set(tx, h);
}

/** decode(), or, when it fails on the record's bytes and `tx` has a handler, undefined after reporting it. */
export function readRecord<T>(tx: Tx, kind: RecordKind, namespace: string, key: string, decode: () => T): T | undefined {
  try {
    return decode();
  } catch (e) {
    const h = handlers.get(tx);
    if (h === undefined || !(e instanceof MetadataError)) throw e;
    h({ kind, namespace, key, error: e });
    return undefined;
  }
}
