// containerd's namespaced content store writer (metadata/content.go contentStore.Writer, namespacedWriter):
// the content store (src/content) holds the bytes, meta.db says which namespace holds which blob.
//
//   writer(ns, {ref, expected?, lease?})   one bolt transaction (content-store.ts openIngestRecord):
//       the namespace has the blob          -> ErrAlreadyExists (and the lease holds it)
//       shared policy, backend has it       -> ingest record with `expected`, no backend writer: the
//                                               namespace adopts the blob on commit without a byte written
//       otherwise                           -> a backend writer on <ns>/<seq>/<ref> (the descriptor's digest
//                                               is not passed down: the bytes must be written, isolated)
//   write / truncate on an adopting writer  -> it unshares: a backend writer, the blob copied into it first
//   commit(size, expected, labels)           backend commit (its "already exists" is fine), then one
//                                               transaction: blob record, ingest record gone, lease updated
//   abort(ns, ref)                           the ingest record goes; the backend ingest too unless adopted
//
// Policies (containerd's [plugins."io.containerd.metadata.v1.bolt"] content_sharing_policy): "shared"
// (containerd's default) lets a namespace take a blob another namespace holds when the writer names its
// digest; "isolated" makes every namespace write the bytes itself.

import type { ContentStore, ContentWriter } from '../content/index.js';
import { ContentAlreadyExistsError, ContentNotFoundError } from '../content/index.js';
import { ERRDEFS, digestError, q, requireNamespace } from './boltutil.js';
import { abortIngestRecord, commitIngestRecord, openIngestRecord } from './content-store.js';
import type { ContentInfo } from './content.js';
import type { MetadataDB } from './db.js';
import type { GoTime } from './encoding.js';
import { ErrAlreadyExists, ErrFailedPrecondition, ErrInvalidArgument } from './errors.js';
import type { Labels } from './labels.js';

export type ContentSharingPolicy = 'shared' | 'isolated';

export interface NamespacedWriterOptions {
  ref: string;
  /** content.WithDescriptor: the digest (and size) the writer expects to commit. */
  expected?: { digest: string; size?: number };
  /** leases.WithLease: the lease the ingest and the committed blob join (it must exist). */
  lease?: string;
}

export class NamespacedContentStore {
  constructor(
    readonly meta: MetadataDB,
    readonly store: ContentStore,
    readonly policy: ContentSharingPolicy = 'shared',
  ) {}

  /** contentStore.Writer. */
  async writer(ns: string, opts: NamespacedWriterOptions): Promise<NamespacedWriter> {
    let adoptSize: number | undefined;
    const want = opts.expected;
    if (opts.ref === '') throw new ErrInvalidArgument(`ref must not be empty: ${ERRDEFS.invalidArgument}`);
    requireNamespace(ns);
    const bad = want && want.digest !== '' ? digestError(want.digest) : undefined;
    if (bad) throw new ErrInvalidArgument(`invalid digest ${q(want!.digest)}: ${bad}: ${ERRDEFS.invalidArgument}`);
    if (this.policy === 'shared' && want && want.digest !== '') {
      try {
        const st = await this.store.info(want.digest);
        if (!want.size || want.size === st.size) adoptSize = st.size;
      } catch (e) {
        if (!(e instanceof ContentNotFoundError)) throw e;
      }
    }
    const res = this.meta.update((tx) =>
      openIngestRecord(tx, ns, opts.ref, { ...(opts.lease !== undefined ? { lease: opts.lease } : {}), ...(want ? { expected: want } : {}), adopt: adoptSize !== undefined }, this.meta.clock),
    );
    if (res.exists) throw new ErrAlreadyExists(`content ${want!.digest}: ${ERRDEFS.alreadyExists}`);
    let backend: ContentWriter | undefined;
    if (!res.adopted) backend = await this.store.writer({ ref: res.backendRef, ...(want?.size ? { total: want.size } : {}) });
    const desc = res.adopted ? { digest: want!.digest, size: adoptSize! } : undefined;
    return new NamespacedWriter(this, ns, opts.ref, res.backendRef, opts.lease, backend, desc, res.expireAt);
  }

  /** contentStore.Abort. */
  async abort(ns: string, ref: string, lease?: string): Promise<void> {
    const { backendRef, expected } = this.meta.update((tx) => abortIngestRecord(tx, ns, ref, lease));
    if (expected === '') {
      try {
        await this.store.abort(backendRef);
      } catch (e) {
        if (!(e instanceof ContentNotFoundError)) throw e;
      }
    }
  }
}

export class NamespacedWriter {
  constructor(
    private readonly cs: NamespacedContentStore,
    readonly namespace: string,
    readonly ref: string,
    /** The content store's ref: <ns>/<sequence>/<ref>. */
    readonly backendRef: string,
    private readonly lease: string | undefined,
    private backend: ContentWriter | undefined,
    /** Set while the writer adopts a shared blob (no backend writer yet). */
    private readonly adopted: { digest: string; size: number } | undefined,
    /** The ingest record's expiry (absent under a lease). */
    readonly expireAt: GoTime | undefined,
  ) {}

  /** True while the writer would adopt the backend's blob on commit, without bytes of its own. */
  get adopting(): boolean {
    return this.backend === undefined;
  }

  /** namespacedWriter.createAndCopy: a backend writer, filled with the shared blob's first `size` bytes. */
  private async unshare(size: number): Promise<ContentWriter> {
    const w = await this.cs.store.writer({ ref: this.backendRef, ...(this.adopted?.size ? { total: this.adopted.size } : {}) });
    if (size > 0 && this.adopted) {
      const r = await this.cs.store.readerAt(this.adopted.digest);
      try {
        for (let off = 0; off < size; ) {
          const chunk = await r.readAt(off, Math.min(1 << 20, size - off));
          if (chunk.length === 0) break;
          await w.write(chunk);
          off += chunk.length;
        }
      } finally {
        await r.close();
      }
    }
    this.backend = w;
    return w;
  }

  async write(bytes: Uint8Array): Promise<number> {
    if (!this.backend) {
      if (bytes.length === 0) return 0;
      await this.unshare(this.adopted?.size ?? 0);
    }
    return this.backend!.write(bytes);
  }

  /** Only 0, as the content store: start over (an adopting writer unshares, empty). */
  async truncate(size: number): Promise<void> {
    if (!this.backend) {
      await this.unshare(size);
      return;
    }
    await this.backend.truncate(size);
  }

  digest(): string {
    return this.backend ? this.backend.digest() : this.adopted!.digest;
  }

  /** Offset so far (an adopting writer reports the blob's size, as containerd's Status does). */
  offset(): number {
    return this.backend ? this.backend.status().offset : this.adopted!.size;
  }

  /**
   * namespacedWriter.Commit: `size` 0 and `expected` "" skip those checks. Returns the namespace's new record;
   * throws ErrAlreadyExists when the namespace had it already (the ingest is gone either way).
   */
  async commit(size = 0, expected = '', labels?: Labels): Promise<ContentInfo> {
    let actual: string;
    let actualSize: number;
    if (!this.backend) {
      const a = this.adopted!;
      if (size !== 0 && size !== a.size) throw new ErrFailedPrecondition(`${q(this.ref)} failed size validation: ${a.size} != ${size}: ${ERRDEFS.failedPrecondition}`);
      if (expected !== '' && expected !== a.digest) throw new ErrFailedPrecondition(`${q(this.ref)} unexpected digest: ${ERRDEFS.failedPrecondition}`);
      actual = a.digest;
      actualSize = a.size;
    } else {
      const offset = this.backend.status().offset;
      if (size !== 0 && size !== offset) {
        await this.backend.close();
        throw new ErrFailedPrecondition(`${q(this.ref)} failed size validation: ${offset} != ${size}: ${ERRDEFS.failedPrecondition}`);
      }
      actualSize = offset;
      try {
        actual = await this.backend.commit(offset, expected === '' ? undefined : expected);
      } catch (e) {
        if (!(e instanceof ContentAlreadyExistsError)) throw e;
        actual = this.backend.digest();
      }
    }
    const res = this.cs.meta.update((tx) => commitIngestRecord(tx, this.namespace, this.ref, actual, actualSize, labels, this.lease, this.cs.meta.clock));
    if (res instanceof ErrAlreadyExists) throw res;
    return res;
  }

  /** Keeps the ingest for a later writer with the same ref. */
  async close(): Promise<void> {
    await this.backend?.close();
  }
}
