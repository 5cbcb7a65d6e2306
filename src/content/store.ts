// The content store over a directory laid out as containerd's io.containerd.content.v1.content
// (content/local/store.go):
//
//   <root>/blobs/<alg>/<hex>     committed blobs, read-only; created = mtime, updated = atime
//   <root>/ingest/<sha256(ref)>/ transactions in progress (see ingest.ts)
//
// Every digest is validated (digest.ts) before a path is built from it, and every blob path is
// resolved and checked to stay under the root before it is opened, so a symlink planted in
// blobs/ cannot make the store read, stat or delete something elsewhere.

import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { FileHandle } from 'node:fs/promises';
import { parseDigest, isAlgorithm, type ParsedDigest } from './digest.js';
import { ContentInvalidArgumentError, ContentNotFoundError, ContentPreconditionError, ContentUnsafePathError } from './errors.js';
import { checkMap, parseFilters, type Adaptor } from './filters.js';
import { ingestKey, readStatus, validateRef, type Status } from './ingest.js';
import { abortActive, activeWriter, openWriter, type ContentWriter, type WriterHost, type WriterOptions } from './writer.js';

/** What the store knows of a blob (containerd's content.Info). */
export interface Info {
  digest: string;
  size: number;
  /** The blob file's mtime (set at commit). */
  createdAt: Date;
  /** The blob file's atime (set by label updates). */
  updatedAt: Date;
  labels: Record<string, string>;
}

/** Mutable labels per digest (containerd's local.LabelStore). */
export interface LabelStore {
  get(digest: string): Promise<Record<string, string> | undefined> | Record<string, string> | undefined;
  /** Replaces all labels. */
  set(digest: string, labels: Record<string, string>): Promise<void> | void;
  /** Merges labels; an empty value removes the key. Returns the result. */
  update(digest: string, labels: Record<string, string>): Promise<Record<string, string>> | Record<string, string>;
}

/** A label store in memory (for tests and standalone use; containerd's metadata layer keeps labels in meta.db). */
export class MemoryLabelStore implements LabelStore {
  private readonly m = new Map<string, Record<string, string>>();
  get(digest: string): Record<string, string> | undefined {
    const l = this.m.get(digest);
    return l ? { ...l } : undefined;
  }
  set(digest: string, labels: Record<string, string>): void {
    const copy: Record<string, string> = {};
    for (const [k, v] of Object.entries(labels)) if (v !== '') copy[k] = v;
    this.m.set(digest, copy);
  }
  update(digest: string, labels: Record<string, string>): Record<string, string> {
    const cur = { ...(this.m.get(digest) ?? {}) };
    for (const [k, v] of Object.entries(labels)) {
      if (v === '') delete cur[k];
      else cur[k] = v;
    }
    this.m.set(digest, cur);
    return { ...cur };
  }
}

export interface ContentStoreOptions {
  /** Where labels live; without one, labels are empty and `update` is refused. */
  labels?: LabelStore;
}

/** Random access to one blob; close it when done. */
export interface BlobReader {
  readonly digest: string;
  readonly size: number;
  /** Up to `length` bytes from `offset` (fewer at the end; empty at or past it). */
  readAt(offset: number, length: number): Promise<Buffer>;
  /** A stream of [start, end) (default: the whole blob). The stream owns its own descriptor. */
  stream(start?: number, end?: number): Readable;
  close(): Promise<void>;
}

/** Called by walk for each blob; return false to stop. */
export type WalkFn = (info: Info) => void | boolean | Promise<void | boolean>;

function checkOffset(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new ContentInvalidArgumentError(`${what} must be a non-negative safe integer, got ${String(n)}`);
  }
  return n;
}

function infoAdaptor(info: Info): Adaptor {
  return (fp) => {
    switch (fp[0]) {
      case 'digest':
        return fp.length === 1 ? [info.digest, true] : ['', false];
      case 'size':
        return fp.length === 1 ? [String(info.size), true] : ['', false];
      case 'labels':
        return checkMap(fp.slice(1), info.labels);
      default:
        return ['', false];
    }
  };
}

function statusAdaptor(st: Status): Adaptor {
  return (fp) => (fp[0] === 'ref' && fp.length === 1 ? [st.ref, true] : ['', false]);
}

export class ContentStore implements WriterHost {
  /** The store directory as given (absolute). */
  readonly root: string;
  /** The root with symlinks resolved: every blob must resolve under it. */
  private readonly realRoot: string;
  private readonly labelStore: LabelStore | undefined;

  constructor(root: string, realRoot: string, opts: ContentStoreOptions = {}) {
    this.root = root;
    this.realRoot = realRoot;
    this.labelStore = opts.labels;
  }

  /** blobs/<alg>/<hex> for a validated digest. */
  blobPath(d: ParsedDigest): string {
    return path.join(this.root, 'blobs', d.algorithm, d.encoded);
  }

  /** ingest/<sha256 hex of ref>. */
  ingestDir(ref: string): string {
    return path.join(this.root, 'ingest', ingestKey(ref));
  }

  /** The path of a blob after checking the digest; the file need not exist. */
  pathOf(digest: string): string {
    return this.blobPath(parseDigest(digest));
  }

  /** Resolves a blob path, refusing what is missing, leads out of the root, or is not a regular file. */
  private async resolveBlob(digest: string): Promise<{ d: ParsedDigest; real: string; stat: fs.Stats }> {
    const d = parseDigest(digest);
    const p = this.blobPath(d);
    let real: string;
    try {
      real = await fs.promises.realpath(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new ContentNotFoundError(`content ${d.digest}: not found`, { digest: d.digest, cause: e });
      if (code === 'ELOOP') throw new ContentUnsafePathError(p, 'symlink loop');
      throw e;
    }
    if (!real.startsWith(this.realRoot + path.sep)) throw new ContentUnsafePathError(p, `resolves to ${real}, outside the store root ${this.realRoot}`);
    const stat = await fs.promises.lstat(real);
    if (!stat.isFile()) throw new ContentUnsafePathError(p, 'not a regular file');
    return { d, real, stat };
  }

  private async openBlob(digest: string): Promise<{ d: ParsedDigest; fh: FileHandle; size: number }> {
    const { d, real } = await this.resolveBlob(digest);
    let fh: FileHandle;
    try {
      fh = await fs.promises.open(real, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw new ContentUnsafePathError(real, 'became a symlink');
      if (code === 'ENOENT') throw new ContentNotFoundError(`content ${d.digest}: not found`, { digest: d.digest, cause: e });
      throw e;
    }
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      throw new ContentUnsafePathError(real, 'not a regular file');
    }
    return { d, fh, size: st.size };
  }

  private async labelsOf(digest: string): Promise<Record<string, string>> {
    if (!this.labelStore) return {};
    return { ...((await this.labelStore.get(digest)) ?? {}) };
  }

  /** @internal for the writer: set labels after commit. */
  async setLabels(digest: string, labels: Record<string, string>): Promise<void> {
    if (!this.labelStore) throw new ContentPreconditionError('labels given but the store has no label store');
    await this.labelStore.set(digest, labels);
  }

  /** Size and times of a blob. Throws ContentNotFoundError, InvalidDigestError, ContentUnsafePathError. */
  async info(digest: string): Promise<Info> {
    const { d, stat } = await this.resolveBlob(digest);
    return { digest: d.digest, size: stat.size, createdAt: stat.mtime, updatedAt: stat.atime, labels: await this.labelsOf(d.digest) };
  }

  /** True when the blob exists (and is safe to open). */
  async exists(digest: string): Promise<boolean> {
    try {
      await this.resolveBlob(digest);
      return true;
    } catch (e) {
      if (e instanceof ContentNotFoundError) return false;
      throw e;
    }
  }

  /** Bytes of a blob: `length` (default: to the end) from `offset` (default 0); fewer at the end. */
  async read(digest: string, offset = 0, length?: number): Promise<Buffer> {
    checkOffset(offset, 'offset');
    if (length !== undefined) checkOffset(length, 'length');
    const r = await this.readerAt(digest);
    try {
      if (offset > r.size) throw new ContentInvalidArgumentError(`offset ${offset} is past the end of ${r.digest} (size ${r.size})`);
      return await r.readAt(offset, length ?? r.size - offset);
    } finally {
      await r.close();
    }
  }

  /** A random-access reader over a blob (containerd's ReaderAt). */
  async readerAt(digest: string): Promise<BlobReader> {
    const { d, fh, size } = await this.openBlob(digest);
    let closed = false;
    return {
      digest: d.digest,
      size,
      async readAt(offset: number, length: number): Promise<Buffer> {
        if (closed) throw new ContentPreconditionError('reader is closed');
        checkOffset(offset, 'offset');
        checkOffset(length, 'length');
        const n = Math.max(0, Math.min(length, size - offset));
        const buf = Buffer.allocUnsafe(n);
        let got = 0;
        while (got < n) {
          const { bytesRead } = await fh.read(buf, got, n - got, offset + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return got === n ? buf : buf.subarray(0, got);
      },
      stream(start = 0, end = size): Readable {
        checkOffset(start, 'start');
        checkOffset(end, 'end');
        if (closed) throw new ContentPreconditionError('reader is closed');
        if (Math.min(end, size) <= start) return Readable.from([]);
        return fs.createReadStream('', { fd: fh.fd, start, end: Math.min(end, size) - 1, autoClose: false });
      },
      async close() {
        if (closed) return;
        closed = true;
        await fh.close();
      },
    };
  }

  /** A readable stream of a blob, from `offset` for `length` bytes (default: to the end). Owns its descriptor. */
  async readStream(digest: string, offset = 0, length?: number): Promise<Readable> {
    checkOffset(offset, 'offset');
    if (length !== undefined) checkOffset(length, 'length');
    const { fh, size } = await this.openBlob(digest);
    const end = length === undefined ? size : Math.min(size, offset + length);
    if (end <= offset) {
      await fh.close();
      return Readable.from([]);
    }
    return fh.createReadStream({ start: offset, end: end - 1, autoClose: true });
  }

  /**
   * Calls `fn` for each blob matching any of `filters` (containerd filter syntax over
   * digest, size, labels.<key>), in path order. Unknown algorithm directories, names that are
   * not valid digests and anything that is not a regular file (symlinks included) are skipped.
   */
  async walk(fn: WalkFn, ...filters: string[]): Promise<void> {
    const filter = parseFilters(...filters);
    const blobs = path.join(this.root, 'blobs');
    let algs: string[];
    try {
      algs = (await fs.promises.readdir(blobs)).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const alg of algs) {
      if (!isAlgorithm(alg)) continue;
      const adir = path.join(blobs, alg);
      if (!(await fs.promises.lstat(adir)).isDirectory()) continue;
      for (const name of (await fs.promises.readdir(adir)).sort()) {
        let d: ParsedDigest;
        try {
          d = parseDigest(`${alg}:${name}`);
        } catch {
          continue;
        }
        let st: fs.Stats;
        try {
          st = await fs.promises.lstat(path.join(adir, name));
        } catch {
          continue; // removed meanwhile
        }
        if (!st.isFile()) continue;
        const info: Info = { digest: d.digest, size: st.size, createdAt: st.mtime, updatedAt: st.atime, labels: await this.labelsOf(d.digest) };
        if (!filter.match(infoAdaptor(info))) continue;
        if ((await fn(info)) === false) return;
      }
    }
  }

  /** All blobs matching the filters, as an array (walk collected). */
  async list(...filters: string[]): Promise<Info[]> {
    const out: Info[] = [];
    await this.walk((i) => void out.push(i), ...filters);
    return out;
  }

  /** Removes a blob. Throws ContentNotFoundError when absent; refuses paths that leave the root. */
  async delete(digest: string): Promise<void> {
    const { d } = await this.resolveBlob(digest);
    try {
      await fs.promises.unlink(this.blobPath(d));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ContentNotFoundError(`content ${d.digest}: not found`, { digest: d.digest, cause: e });
      throw e;
    }
  }

  /**
   * Updates labels (needs a label store): `fieldpaths` "labels" or "labels.<key>"; none = all
   * labels replaced. Sets the blob's atime (its updatedAt) to now.
   */
  async update(info: Pick<Info, 'digest'> & Partial<Pick<Info, 'labels'>>, ...fieldpaths: string[]): Promise<Info> {
    const ls = this.labelStore;
    if (!ls) throw new ContentPreconditionError('update not supported on immutable content store (no label store)');
    const { d, real, stat } = await this.resolveBlob(info.digest);
    const given = info.labels ?? {};
    let all = fieldpaths.length === 0;
    let labels: Record<string, string> = all ? given : {};
    for (const fp of fieldpaths) {
      if (fp.startsWith('labels.')) {
        const key = fp.slice('labels.'.length);
        labels[key] = given[key] ?? '';
      } else if (fp === 'labels') {
        all = true;
        labels = given;
      } else {
        throw new ContentInvalidArgumentError(`cannot update ${JSON.stringify(fp)} field on content info ${JSON.stringify(d.digest)}`);
      }
    }
    let result: Record<string, string>;
    if (all) {
      await ls.set(d.digest, labels);
      result = await this.labelsOf(d.digest);
    } else {
      result = { ...(await ls.update(d.digest, labels)) };
    }
    const now = new Date();
    await fs.promises.utimes(real, now, stat.mtime).catch(() => undefined);
    return { digest: d.digest, size: stat.size, createdAt: stat.mtime, updatedAt: now, labels: result };
  }

  /** Opens or resumes the writer for a ref (see writer.ts). */
  writer(opts: WriterOptions): Promise<ContentWriter> {
    return openWriter(this, opts);
  }

  /** The status of the ingest for `ref`. Throws ContentNotFoundError when there is none. */
  async status(ref: string): Promise<Status> {
    validateRef(ref);
    const dir = this.ingestDir(ref);
    let st: Status;
    try {
      st = readStatus(dir);
    } catch (e) {
      if (e instanceof ContentNotFoundError) throw new ContentNotFoundError(`ingest ref ${JSON.stringify(ref)}: not found`, { ref, cause: e });
      throw e;
    }
    const w = activeWriter(dir);
    if (w) {
      const live = w.status();
      st.offset = live.offset;
      if (live.expected) st.expected = live.expected;
    }
    return st;
  }

  /** The statuses of all ingests whose ref matches any filter (field: ref). Entries vanishing meanwhile are skipped. */
  async listStatuses(...filters: string[]): Promise<Status[]> {
    const filter = parseFilters(...filters);
    const root = path.join(this.root, 'ingest');
    let names: string[];
    try {
      names = (await fs.promises.readdir(root)).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: Status[] = [];
    for (const name of names) {
      let st: Status;
      try {
        st = readStatus(path.join(root, name));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (e instanceof ContentNotFoundError || code === 'ENOTDIR' || code === 'ENOENT') continue;
        throw e;
      }
      if (filter.match(statusAdaptor(st))) out.push(st);
    }
    return out;
  }

  /** Removes the ingest of `ref`, closing its writer in this process if one is open. */
  async abort(ref: string): Promise<void> {
    validateRef(ref);
    const dir = this.ingestDir(ref);
    try {
      await fs.promises.lstat(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ContentNotFoundError(`ingest ref ${JSON.stringify(ref)}: not found`, { ref, cause: e });
      throw e;
    }
    await abortActive(dir);
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

/**
 * Opens (creating `ingest/` if needed, as containerd's NewStore) a content store rooted at
 * `dir`, e.g. `<containerd root>/io.containerd.content.v1.content`.
 */
export async function openContentStore(dir: string, opts: ContentStoreOptions = {}): Promise<ContentStore> {
  if (typeof dir !== 'string' || dir === '') throw new ContentInvalidArgumentError('content store directory must be a non-empty string');
  if (dir.includes('\0')) throw new ContentInvalidArgumentError('content store directory contains NUL');
  const root = path.resolve(dir);
  await fs.promises.mkdir(path.join(root, 'ingest'), { recursive: true, mode: 0o777 });
  const realRoot = await fs.promises.realpath(root);
  return new ContentStore(root, realRoot, opts);
}
