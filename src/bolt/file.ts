// File access for the engine. Everything the engine does to the file goes through `FileIO`,
// so tests can inject faults (short writes, failed syncs, power loss). Reads go through a
// `DataMap`: the file memory-mapped read-only in chunks, because a Node Buffer cannot span
// more than 4 GiB. A page that straddles two chunks is copied; every other read is a view.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BoltIOError, ErrTimeout, CorruptionError } from './errors.js';

const require = createRequire(import.meta.url);

interface MmapIo {
  map(size: number, protection: number, flags: number, fd: number, offset?: number, advise?: number): Buffer;
  advise(buffer: Buffer, advise: number): void;
  PROT_READ: number;
  MAP_SHARED: number;
  MADV_RANDOM: number;
  MADV_DONTNEED: number;
  PAGESIZE: number;
}
interface FsExt {
  flockSync(fd: number, flags: 'sh' | 'ex' | 'shnb' | 'exnb' | 'un'): void;
}
let mmapLib: MmapIo | undefined;
let fsExtLib: FsExt | undefined;
/**
 * mmap-io's entry point finds its native binding through @mapbox/node-pre-gyp, which costs
 * ~45 ms to load (every CLI run pays it); the binding itself loads in ~1.5 ms. So load the
 * binding from where node-pre-gyp puts it (or node-gyp builds it) and fall back to the entry
 * point when neither exists. The binding exports map() and the constants we use.
 */
function mmapIo(): MmapIo {
  if (!mmapLib) {
    let dir: string | undefined;
    try {
      dir = path.dirname(require.resolve('@riaskov/mmap-io/package.json'));
    } catch {
      dir = undefined;
    }
    const candidates = dir
      ? [path.join(dir, 'build', 'binding', 'Release', `node-v${process.versions.modules}-${process.platform}-${process.arch}`, 'mmap_io.node'), path.join(dir, 'build', 'Release', 'mmap_io.node')]
      : [];
    for (const c of candidates) {
      if (!fs.existsSync(c)) continue;
      const m = require(c) as Partial<MmapIo>;
      if (typeof m.map === 'function' && typeof m.advise === 'function' && typeof m.PAGESIZE === 'number') {
        mmapLib = m as MmapIo;
        break;
      }
    }
    if (!mmapLib) {
      const m = require('@riaskov/mmap-io') as MmapIo & { default?: MmapIo };
      mmapLib = m.default ?? m;
    }
  }
  return mmapLib;
}
function fsExt(): FsExt {
  return (fsExtLib ??= require('fs-ext') as FsExt);
}
/** Loads the native modules now instead of on first use (the bench, before its clocks start). */
export function loadNativeModules(): void {
  mmapIo();
  fsExt();
}

/** The file operations the engine needs. */
export interface FileIO {
  readonly path: string;
  readonly fd: number;
  readonly readOnly: boolean;
  size(): number;
  readAt(buf: Uint8Array, offset: number): number;
  writeAt(buf: Uint8Array, offset: number): void;
  datasync(): void;
  sync(): void;
  truncate(size: number): void;
  close(): void;
  /**
   * Optional: a live read view of the first `length` bytes (writes through writeAt must show
   * in it, as they do in a shared mapping). Files without it are memory-mapped by fd.
   */
  map?(length: number, chunkSize?: number): DataMap;
  /** Optional: locking for files that have no real descriptor. */
  lock?(exclusive: boolean, timeoutMs: number): void;
  unlock?(): void;
}

function ioError(what: string, path: string, e: unknown, syscall?: string): BoltIOError {
  const msg = e instanceof Error ? e.message : String(e);
  return new BoltIOError(`${what} ${path}: ${msg}`, { cause: e, ...(syscall ? { syscall } : {}) });
}

/** A FileIO over a real file descriptor. */
export class NodeFile implements FileIO {
  private closed = false;
  private constructor(
    readonly path: string,
    readonly fd: number,
    readonly readOnly: boolean,
  ) {}

  static open(path: string, readOnly: boolean, mode = 0o600): NodeFile {
    let fd: number;
    try {
      fd = readOnly ? fs.openSync(path, fs.constants.O_RDONLY) : fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT, mode);
    } catch (e) {
      throw ioError('open', path, e, 'open');
    }
    return new NodeFile(path, fd, readOnly);
  }

  size(): number {
    try {
      return fs.fstatSync(this.fd).size;
    } catch (e) {
      throw ioError('stat', this.path, e, 'fstat');
    }
  }
  readAt(buf: Uint8Array, offset: number): number {
    let done = 0;
    try {
      while (done < buf.length) {
        const n = fs.readSync(this.fd, buf, done, buf.length - done, offset + done);
        if (n === 0) break;
        done += n;
      }
    } catch (e) {
      throw ioError('read', this.path, e, 'read');
    }
    return done;
  }
  writeAt(buf: Uint8Array, offset: number): void {
    let done = 0;
    try {
      while (done < buf.length) done += fs.writeSync(this.fd, buf, done, buf.length - done, offset + done);
    } catch (e) {
      throw ioError('write', this.path, e, 'write');
    }
  }
  datasync(): void {
    try {
      fs.fdatasyncSync(this.fd);
    } catch (e) {
      throw ioError('fdatasync', this.path, e, 'fdatasync');
    }
  }
  sync(): void {
    try {
      fs.fsyncSync(this.fd);
    } catch (e) {
      throw ioError('fsync', this.path, e, 'fsync');
    }
  }
  truncate(size: number): void {
    try {
      fs.ftruncateSync(this.fd, size);
    } catch (e) {
      throw ioError('truncate', this.path, e, 'ftruncate');
    }
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
export function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

/**
 * Takes a flock on the file: exclusive for read-write, shared for read-only, retried every
 * 50 ms until `timeoutMs` (0 = wait forever), as bbolt's flock(). Go's bbolt and containerd
 * use the same lock, so we exclude each other.
 */
export function flock(file: FileIO, exclusive: boolean, timeoutMs: number): void {
  if (file.lock) return file.lock(exclusive, timeoutMs);
  const start = Date.now();
  for (;;) {
    try {
      fsExt().flockSync(file.fd, exclusive ? 'exnb' : 'shnb');
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK') throw ioError('flock', file.path, e, 'flock');
    }
    if (timeoutMs > 0 && Date.now() - start > timeoutMs - 50) throw new ErrTimeout();
    sleepSync(50);
  }
}

/** Tries the lock once; true when taken. */
export function tryFlock(file: FileIO, exclusive: boolean): boolean {
  try {
    fsExt().flockSync(file.fd, exclusive ? 'exnb' : 'shnb');
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return false;
    throw ioError('flock', file.path, e, 'flock');
  }
}

export function funlock(file: FileIO): void {
  if (file.unlock) return file.unlock();
  try {
    fsExt().flockSync(file.fd, 'un');
  } catch {
    // closing the descriptor releases it anyway
  }
}

/** Default chunk: 1 GiB, a multiple of every bbolt page size. */
export const DEFAULT_CHUNK_SIZE = 1 << 30;

/** Read access to the first `length` bytes of the file. */
export interface DataSource {
  readonly length: number;
  /** `len` bytes at `offset`: a view when they lie in one chunk, else a copy. */
  bytes(offset: number, len: number): Uint8Array;
  /** The chunk holding `offset` and the offset within it (for zero-copy page views). */
  locate(offset: number, len: number): { buf: Uint8Array; off: number };
}

/**
 * mmap-io passes offset and size to mmap(2) as C ints, so it can map nothing that starts
 * at or past 2 GiB. Chunks there are read with pread on demand instead (same view of the
 * file: MAP_SHARED pages and pread both show the page cache).
 */
export const MMAP_OFFSET_LIMIT = 2 ** 31;
const PREAD_CACHE_ENTRIES = 256;

/**
 * Mappings that DataMap.release() gave back, by file (device and inode) and offset, for the next
 * DataMap.map of the same chunk of the same file: mmap-io cannot unmap, so without them a loop
 * that opens one file again and again would leave one more mapping per open until the GC (Linux
 * allows 65,530). Weak, so the GC still collects (and unmaps) any of them; a mapping in use is
 * never here, and one taken leaves. While the mapping exists the inode cannot be reused, so the
 * key names one file.
 */
const releasedMappings = new Map<string, WeakRef<Buffer>>();
const RELEASED_MAPPINGS_MAX = 1024;

/** The file's device and inode, the releasedMappings key before the offset (undefined when fstat fails). */
function fileId(fd: number): string | undefined {
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/** A released mapping of at least `size` bytes under `key`, taken out of the cache. */
function takeReleasedMapping(key: string | undefined, size: number): Buffer | undefined {
  if (key === undefined) return undefined;
  const b = releasedMappings.get(key)?.deref();
  if (b === undefined || b.length < size) return undefined;
  releasedMappings.delete(key);
  return b;
}

/** The file mapped read-only and shared, in chunks of `chunkSize` bytes. */
export class DataMap implements DataSource {
  /** Recently read ranges of pread chunks, by offset (insertion order = age). */
  private readonly preadCache = new Map<number, Uint8Array>();

  private constructor(
    /** @internal the mapped chunks (undefined: read with pread), for zero-allocation page reads. */
    readonly chunks: readonly (Uint8Array | undefined)[],
    readonly chunkSize: number,
    readonly length: number,
    private readonly file: FileIO | undefined,
    /** A single-chunk mapping larger than the file (see map's capacity), else undefined. */
    private readonly whole?: Uint8Array,
    /** The Buffers mmap-io returned (one per mapped chunk), shared with grown()'s DataMaps. */
    private readonly mapped: readonly Buffer[] = [],
    /** Each mapped Buffer's key in releasedMappings (undefined: not to be kept there). */
    private readonly mappedKeys: readonly (string | undefined)[] = [],
  ) {}

  /**
   * Maps the first `length` bytes. With `capacity` > length (and the whole capacity inside one
   * chunk), the mapping covers `capacity` bytes while views stop at `length`, so a file that
   * grows within it is read through the same mapping (grown()) instead of a new one: an old
   * mapping is only unmapped when the GC collects it, and before release() each remap of a
   * growing file kept another copy of its touched pages in RSS (random writes of 1M keys: 1.4 GiB).
   */
  static map(file: FileIO, length: number, chunkSize = DEFAULT_CHUNK_SIZE, capacity = length): DataMap {
    if (file.map) return file.map(length, chunkSize);
    const chunks: (Uint8Array | undefined)[] = [];
    const mapped: Buffer[] = [];
    const mappedKeys: (string | undefined)[] = [];
    let whole: Uint8Array | undefined;
    if (length > 0) {
      const m = mmapIo();
      const id = fileId(file.fd);
      for (let off = 0; off < length; off += chunkSize) {
        const size = Math.min(chunkSize, length - off);
        if (off + size > MMAP_OFFSET_LIMIT - 1) {
          chunks.push(undefined); // read with pread
          continue;
        }
        const extra = off === 0 && capacity > length && capacity <= chunkSize && capacity <= MMAP_OFFSET_LIMIT - 1;
        try {
          const want = extra ? capacity : size;
          const key = id === undefined ? undefined : `${id}:${off}`;
          const b = takeReleasedMapping(key, want) ?? m.map(want, m.PROT_READ, m.MAP_SHARED, file.fd, off, m.MADV_RANDOM);
          mapped.push(b);
          mappedKeys.push(key);
          // Plain Uint8Array views, so keys and values are the same type however they were read.
          if (extra) whole = new Uint8Array(b.buffer, b.byteOffset, b.byteLength); // (a reused one may be larger than capacity)
          chunks.push(new Uint8Array(b.buffer, b.byteOffset, size));
        } catch (e) {
          throw ioError('mmap', file.path, e, 'mmap');
        }
      }
    }
    return new DataMap(chunks, chunkSize, length, file, whole, mapped, mappedKeys);
  }

  /** The same mapping for the file grown to `length`, when it still fits; else undefined. */
  grown(length: number): DataMap | undefined {
    const whole = this.whole;
    if (whole === undefined || length < this.length || length > whole.length) return undefined;
    return new DataMap([whole.subarray(0, length)], this.chunkSize, length, this.file, whole, this.mapped, this.mappedKeys);
  }

  /** True when both read through the same mmap-io mapping (one made the other with grown()). */
  sharesMapping(other: DataSource | undefined): boolean {
    return other instanceof DataMap && other.mapped === this.mapped && this.mapped.length > 0;
  }

  /**
   * Gives the mapped pages back (madvise MADV_DONTNEED on each chunk) once nothing reads through
   * the mapping: the database closed or remapped it and no transaction holds it. mmap-io has no
   * unmap; the mapping itself goes when V8 collects its Buffer, which in a synchronous loop of
   * opens (15,000 fuzz cases: RSS +652 MiB, ~2 mappings a case) is not before the loop ends, and
   * until then every page read stayed resident. The mapping is read-only and shared, so this
   * loses nothing: a view still read afterwards faults the page in again from the page cache.
   * The mapping then waits in releasedMappings for the next map of the same file.
   */
  release(): void {
    if (this.mapped.length === 0) return;
    const m = mmapIo();
    this.mapped.forEach((b, i) => {
      try {
        m.advise(b, m.MADV_DONTNEED);
      } catch {
        // a hint: if the kernel refuses it, the pages go with the mapping at GC, as before
      }
      const key = this.mappedKeys[i];
      if (key === undefined) return;
      releasedMappings.delete(key);
      releasedMappings.set(key, new WeakRef(b));
      if (releasedMappings.size > RELEASED_MAPPINGS_MAX) releasedMappings.delete(releasedMappings.keys().next().value!);
    });
  }

  /** A DataSource over bytes already in memory (tests, salvage, read-without-mmap). */
  static fromBytes(bytes: Uint8Array, chunkSize = DEFAULT_CHUNK_SIZE): DataMap {
    const chunks: Uint8Array[] = [];
    const plain = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let off = 0; off < plain.length; off += chunkSize) chunks.push(plain.subarray(off, Math.min(off + chunkSize, plain.length)));
    return new DataMap(chunks, chunkSize, bytes.length, undefined);
  }

  private checkRange(offset: number, len: number): void {
    if (offset < 0 || offset + len > this.length) {
      throw new CorruptionError(`read of ${len} bytes at offset ${offset} is past the end of the file (${this.length} bytes)`);
    }
  }

  locate(offset: number, len: number): { buf: Uint8Array; off: number } {
    this.checkRange(offset, len);
    const ci = Math.floor(offset / this.chunkSize);
    const off = offset - ci * this.chunkSize;
    const chunk = this.chunks[ci];
    if (chunk && off + len <= chunk.length) return { buf: chunk, off };
    return { buf: this.bytes(offset, len), off: 0 };
  }

  bytes(offset: number, len: number): Uint8Array {
    this.checkRange(offset, len);
    const ci = Math.floor(offset / this.chunkSize);
    const off = offset - ci * this.chunkSize;
    const chunk = this.chunks[ci];
    if (chunk && off + len <= chunk.length) return chunk.subarray(off, off + len);
    if (this.chunks.slice(ci, Math.floor((offset + len - 1) / this.chunkSize) + 1).some((c) => c === undefined)) return this.pread(offset, len);
    const out = new Uint8Array(len);
    let done = 0;
    let c = ci,
      o = off;
    while (done < len) {
      const src = this.chunks[c]!;
      const n = Math.min(src.length - o, len - done);
      out.set(src.subarray(o, o + n), done);
      done += n;
      c++;
      o = 0;
    }
    return out;
  }

  /** Forgets pread pages: a commit may have rewritten reused pages. */
  invalidate(): void {
    this.preadCache.clear();
  }

  private pread(offset: number, len: number): Uint8Array {
    const hit = this.preadCache.get(offset);
    if (hit && hit.length >= len) return hit.subarray(0, len);
    const out = new Uint8Array(len);
    const n = this.file!.readAt(out, offset);
    if (n !== len) throw new CorruptionError(`short read of ${len} bytes at offset ${offset}: got ${n}`);
    if (this.preadCache.size >= PREAD_CACHE_ENTRIES) this.preadCache.delete(this.preadCache.keys().next().value!);
    this.preadCache.set(offset, out);
    return out;
  }
}
