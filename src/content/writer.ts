// A write transaction against the content store, keyed by ref (containerd's content/local
// writer.go). Bytes go straight to ingest/<hash of ref>/data and through the digester; commit
// syncs, verifies size and digest, renames the data into blobs/<alg>/<hex>, syncs that
// directory and makes the blob read-only.
//
// Resuming: opening a ref whose ingest exists (ours or containerd's) re-reads `data` to rebuild
// the hash and continues at its end. An ingest whose status cannot be read (missing ref or
// timestamps, a different ref in `ref`, a different total) is started over, as containerd does;
// unlike containerd we also truncate the old data, so stale bytes cannot survive past the new end.
//
// Locking: see locks.ts (an in-process map plus flock on `data`).

import fs from 'node:fs';
import path from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { Digester, parseDigest, CANONICAL, type Algorithm, type ParsedDigest } from './digest.js';
import {
  ContentAlreadyExistsError,
  ContentCorruptError,
  ContentDigestMismatchError,
  ContentInvalidArgumentError,
  ContentPreconditionError,
  ContentSizeMismatchError,
  ContentUnsafePathError,
} from './errors.js';
import { formatTimestamp, readStatus, validateRef, writeToCompletion, type Status } from './ingest.js';
import { flockExclusive, tryLock, unlock } from './locks.js';

/** Called after each write (and once on open with the resumed offset): bytes done, total when known. */
export type ProgressFn = (done: number, total?: number) => void;

export interface WriterOptions {
  /** Names the transaction; the same ref resumes it. */
  ref: string;
  /** Expected size (written to `total`; 0 or absent = unknown). */
  total?: number;
  /** Expected digest: opening fails with ERR_CONTENT_ALREADY_EXISTS if the blob exists; picks the hash algorithm. */
  expected?: string;
  onProgress?: ProgressFn;
}

export interface CommitOptions {
  /** Labels to set on the committed blob (needs a label store). */
  labels?: Record<string, string>;
}

/** What a writer needs from its store. */
export interface WriterHost {
  readonly root: string;
  blobPath(d: ParsedDigest): string;
  ingestDir(ref: string): string;
  setLabels(digest: string, labels: Record<string, string>): Promise<void>;
}

const CHUNK = 1 << 20;
const active = new Map<string, ContentWriter>();

/** Closes the open writer of an ingest directory, if any, before the directory is removed. */
export async function abortActive(dir: string): Promise<void> {
  const w = active.get(dir);
  if (w) await w.release('aborted');
}

/** The open writer of an ingest directory in this process, if any. */
export function activeWriter(dir: string): ContentWriter | undefined {
  return active.get(dir);
}

function checkSize(n: unknown, what: string): number {
  if (n === undefined) return 0;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new ContentInvalidArgumentError(`${what} must be a non-negative safe integer, got ${String(n)}`);
  }
  return n;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, fs.constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.promises.lstat(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** Hashes a file from the start through an open handle; returns the bytes read. */
async function hashHandle(fh: FileHandle, digester: Digester): Promise<number> {
  const buf = Buffer.allocUnsafe(CHUNK);
  let pos = 0;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) return pos;
    digester.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
}

/** Opens (or resumes) the writer for `opts.ref`. Use ContentStore.writer. */
export async function openWriter(host: WriterHost, opts: WriterOptions): Promise<ContentWriter> {
  if (opts === null || typeof opts !== 'object') throw new ContentInvalidArgumentError('writer options must be an object with a ref');
  const ref = validateRef(opts.ref);
  let total = checkSize(opts.total, 'total');
  const expected = opts.expected !== undefined && opts.expected !== '' ? parseDigest(opts.expected) : undefined;
  if (expected && (await exists(host.blobPath(expected)))) throw new ContentAlreadyExistsError(expected.digest);

  const dir = host.ingestDir(ref);
  tryLock(dir, ref);
  let fh: FileHandle | undefined;
  try {
    await fs.promises.mkdir(path.dirname(dir), { recursive: true, mode: 0o777 });
    let existed = false;
    try {
      await fs.promises.mkdir(dir, { mode: 0o755 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const st = await fs.promises.lstat(dir);
      if (!st.isDirectory()) throw new ContentUnsafePathError(dir, 'ingest path is not a directory');
      existed = true;
    }
    const data = path.join(dir, 'data');
    fh = await fs.promises.open(data, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o666);
    flockExclusive(fh.fd, ref);

    const digester = new Digester(expected?.algorithm ?? CANONICAL);
    let offset = 0;
    let startedAt = new Date();
    let updatedAt = startedAt;
    let resumed = false;
    if (existed) {
      try {
        const st = readStatus(dir);
        if (st.ref !== ref) throw new ContentCorruptError(path.join(dir, 'ref'), `ref key does not match: ${ref} != ${st.ref}`);
        if (total > 0 && st.total > 0 && total !== st.total) throw new ContentInvalidArgumentError(`provided total differs from status: ${total} != ${st.total}`);
        offset = await hashHandle(fh, digester);
        startedAt = st.startedAt;
        updatedAt = st.updatedAt;
        if (st.total > 0) total = st.total;
        resumed = true;
      } catch {
        resumed = false;
      }
    }
    if (!resumed) {
      digester.reset();
      offset = 0;
      await fh.truncate(0);
      writeToCompletion(path.join(dir, 'ref'), ref);
      const ts = formatTimestamp(startedAt);
      writeToCompletion(path.join(dir, 'startedat'), ts);
      writeToCompletion(path.join(dir, 'updatedat'), ts);
      if (total > 0) writeToCompletion(path.join(dir, 'total'), String(total));
      else await fs.promises.rm(path.join(dir, 'total'), { force: true });
    }
    const w = new ContentWriter(host, { ref, dir, fh, digester, offset, total, startedAt, updatedAt, expected, onProgress: opts.onProgress });
    active.set(dir, w);
    if (offset > 0) opts.onProgress?.(offset, total || undefined);
    return w;
  } catch (e) {
    await fh?.close().catch(() => undefined);
    unlock(dir);
    throw e;
  }
}

interface WriterState {
  ref: string;
  dir: string;
  fh: FileHandle;
  digester: Digester;
  offset: number;
  total: number;
  startedAt: Date;
  updatedAt: Date;
  expected: ParsedDigest | undefined;
  onProgress: ProgressFn | undefined;
}

/**
 * The writer of one ref. Calls are serialized. After commit, close or abort it refuses
 * further writes with ERR_CONTENT_PRECONDITION; a failed commit (size or digest mismatch)
 * also ends it, like containerd, but keeps the ingest so a new writer can resume.
 */
export class ContentWriter {
  readonly ref: string;
  private readonly host: WriterHost;
  private readonly dir: string;
  private fh: FileHandle | undefined;
  private readonly digester: Digester;
  private offset: number;
  private readonly total: number;
  private readonly startedAt: Date;
  private updatedAt: Date;
  private readonly expected: ParsedDigest | undefined;
  private readonly onProgress: ProgressFn | undefined;
  private state: 'open' | 'committed' | 'closed' | 'aborted' = 'open';
  private queue: Promise<unknown> = Promise.resolve();

  constructor(host: WriterHost, s: WriterState) {
    this.host = host;
    this.ref = s.ref;
    this.dir = s.dir;
    this.fh = s.fh;
    this.digester = s.digester;
    this.offset = s.offset;
    this.total = s.total;
    this.startedAt = s.startedAt;
    this.updatedAt = s.updatedAt;
    this.expected = s.expected;
    this.onProgress = s.onProgress;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private handle(): FileHandle {
    if (this.state !== 'open' || !this.fh) throw new ContentPreconditionError(`writer for ref ${JSON.stringify(this.ref)} is ${this.state}`);
    return this.fh;
  }

  /** Appends bytes at the current offset; resolves to the number written (all of them). */
  write(bytes: Uint8Array): Promise<number> {
    return this.serial(async () => {
      const fh = this.handle();
      if (!(bytes instanceof Uint8Array)) throw new ContentInvalidArgumentError('write takes a Uint8Array');
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, this.offset + done);
        done += bytesWritten;
      }
      this.digester.update(bytes);
      this.offset += bytes.length;
      this.updatedAt = new Date();
      this.onProgress?.(this.offset, this.total || undefined);
      return bytes.length;
    });
  }

  /** The transaction's status (in memory; the ingest files say the same after close). */
  status(): Status {
    return {
      ref: this.ref,
      offset: this.offset,
      total: this.total,
      startedAt: this.startedAt,
      updatedAt: this.updatedAt,
      ...(this.expected ? { expected: this.expected.digest } : {}),
    };
  }

  /** The digest of the bytes written so far. */
  digest(): string {
    return this.digester.digest();
  }

  /** Only truncate(0) is supported, as containerd: start the transaction over. */
  truncate(size: number): Promise<void> {
    return this.serial(async () => {
      const fh = this.handle();
      if (size !== 0) throw new ContentInvalidArgumentError('truncate: unsupported size (only 0)');
      await fh.truncate(0);
      this.digester.reset();
      this.offset = 0;
      this.updatedAt = new Date();
    });
  }

  /**
   * Commits the bytes as a blob. `size` 0 skips the size check. `expected` (or the writer's
   * expected digest) must match; an expected digest of another algorithm re-hashes the data.
   * Resolves to the digest. Throws ContentSizeMismatchError / ContentDigestMismatchError
   * (nothing committed, ingest kept), ContentAlreadyExistsError (the blob exists; the ingest
   * is removed, as containerd).
   */
  commit(size = 0, expected?: string, opts: CommitOptions = {}): Promise<string> {
    return this.serial(async () => {
      const fh = this.handle();
      checkSize(size, 'commit size');
      const want = expected !== undefined && expected !== '' ? parseDigest(expected) : this.expected;
      let actualSize: number;
      let mode: number;
      try {
        await fh.sync();
        const st = await fh.stat();
        actualSize = st.size;
        mode = st.mode & 0o777;
        if (size > 0 && size !== actualSize) throw new ContentSizeMismatchError(size, actualSize);
      } catch (e) {
        await this.release('closed', false);
        throw e;
      }
      let dgst: string;
      let alg: Algorithm = this.digester.algorithm;
      if (want && want.algorithm !== alg) {
        const d = new Digester(want.algorithm);
        await hashHandle(fh, d);
        dgst = d.digest();
        alg = want.algorithm;
      } else {
        dgst = this.digester.digest();
      }
      if (want && want.digest !== dgst) {
        await this.release('closed', false);
        throw new ContentDigestMismatchError(want.digest, dgst);
      }
      const parsed = parseDigest(dgst);
      const target = this.host.blobPath(parsed);
      const ingestData = path.join(this.dir, 'data');
      try {
        await fs.promises.mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
        if (await exists(target)) {
          await fs.promises.rm(this.dir, { recursive: true, force: true });
          throw new ContentAlreadyExistsError(dgst);
        }
        await fs.promises.rename(ingestData, target);
      } catch (e) {
        await this.release('closed', false);
        throw e;
      }
      // The blob is in place; what follows cannot be rolled back, so it does not fail the commit
      // (containerd logs these), except the directory sync, which is what makes the rename durable.
      this.state = 'committed';
      await this.release('committed', false);
      await fsyncDir(path.dirname(target));
      const now = new Date();
      await fs.promises.utimes(target, now, now).catch(() => undefined);
      await fs.promises.rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
      if (opts.labels) await this.host.setLabels(dgst, opts.labels);
      await fs.promises.chmod(target, mode & ~0o333).catch(() => undefined);
      return dgst;
    });
  }

  /** Closes the writer, keeping the ingest for a later resume (writes `updatedat`). Idempotent. */
  close(): Promise<void> {
    return this.serial(async () => {
      if (this.state !== 'open') return;
      await this.release('closed', true);
    });
  }

  /** Ends the writer: sync and close the data file (dropping the flock), release the lock. */
  async release(state: 'closed' | 'committed' | 'aborted', writeUpdated = true): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    if (this.state === 'open') this.state = state;
    if (active.get(this.dir) === this) active.delete(this.dir);
    try {
      if (fh) {
        if (state !== 'aborted') await fh.sync().catch(() => undefined);
        await fh.close();
        if (writeUpdated && state === 'closed') {
          try {
            writeToCompletion(path.join(this.dir, 'updatedat'), formatTimestamp(this.updatedAt));
          } catch {
            // the ingest may be gone (aborted meanwhile); containerd ignores this too
          }
        }
      }
    } finally {
      unlock(this.dir);
    }
  }
}
