// Surgery: byte-level repairs of a bbolt file, as bbolt 1.4's `bbolt surgery` (internal/surgeon
// and cmd/bbolt/command_surgery*.go, read at v1.4.3). Every function here modifies the file at
// `path` in place; the CLI copies the source first (copyFileForSurgery) unless --in-place.
//
// Like Go's guts_cli, pages are read with plain reads, the page size and high-water mark come
// from meta 0 (only its magic is checked), and a page is accepted when its header id matches:
//
//   readPage(path, id)      page size from meta 0 -> read one page -> header id == id?
//                           -> overflow < hwm - 3? -> read (overflow + 1) pages
//   writePage(path, buf)    writes buf at header.id * pageSize; len must be (overflow+1) pages
//
// Meta page (offset 16 in pages 0 and 1; see meta.ts for the full table)
//   0 magic u32 | 4 version u32 | 8 pageSize u32 | 12 flags u32 | 16 root u64 | 24 sequence u64
//   32 freelist u64 | 40 pgid u64 | 48 txid u64 | 56 checksum u64 (FNV-1a 64 of bytes 0..56)
//
// Error messages are Go's (the texts the bbolt CLI prints after "Error: ").

import fs from 'node:fs';
import { BoltError, BoltIOError, ErrChecksum, ErrInvalid, ErrVersionMismatch } from './errors.js';
import { MAGIC, PGID_NO_FREELIST, VERSION, fnv64a } from './meta.js';
import { BRANCH_PAGE_FLAG, FREELIST_PAGE_FLAG, LEAF_PAGE_FLAG, META_PAGE_FLAG, PAGE_HEADER_SIZE, pageTypeName, put16, put32, put64, u16, u32, u64 } from './page.js';
import { open } from './db.js';

/** A surgery operation refused or failed; `message` is bbolt's text for the same case. */
export class SurgeryError extends BoltError {
  static override readonly code: string = 'ERR_SURGERY';
}

/** The file already has a (readable) freelist page: `freelist rebuild` refuses, as bbolt does. */
export class ErrSurgeryFreelistAlreadyExist extends SurgeryError {
  static override readonly code = 'ERR_SURGERY_FREELIST_ALREADY_EXIST';
  constructor() {
    super('the file already has freelist, please consider to abandon the freelist to forcibly rebuild it');
  }
}

const U64_MASK = 0xffffffffffffffffn;

function ioError(what: string, path: string, e: unknown): BoltIOError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const text = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : e instanceof Error ? e.message : String(e);
  return new BoltIOError(`${what} ${path}: ${text}`, { cause: e });
}

/** Reads exactly `len` bytes at `off`; fewer when the file ends first. */
function readAt(fd: number, len: number, off: number): Uint8Array {
  // An offset past 2^53 (a damaged page id times the page size) lies past the end of any file:
  // EOF, as Go's ReadAt answers there, not Node's out-of-range error.
  if (!Number.isSafeInteger(off + len)) return new Uint8Array(0);
  const buf = new Uint8Array(len);
  let done = 0;
  while (done < len) {
    const n = fs.readSync(fd, buf, done, len - done, off + done);
    if (n === 0) break;
    done += n;
  }
  return done === len ? buf : buf.subarray(0, done);
}

function withFd<T>(path: string, flags: string, fn: (fd: number) => T): T {
  let fd: number;
  try {
    fd = fs.openSync(path, flags);
  } catch (e) {
    throw ioError('open', path, e);
  }
  try {
    return fn(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * common.CopyFile: copies SRC to DST, which must not exist yet. Go's texts:
 * `source file "X" not found`, `output file "Y" already exists`.
 */
export function copyFileForSurgery(src: string, dst: string): void {
  if (!fs.existsSync(src)) throw new SurgeryError(`source file ${JSON.stringify(src)} not found`);
  if (fs.existsSync(dst)) throw new SurgeryError(`output file ${JSON.stringify(dst)} already exists`);
  try {
    fs.copyFileSync(src, dst, fs.constants.COPYFILE_EXCL);
  } catch (e) {
    throw ioError('copy', dst, e);
  }
  const a = fs.statSync(src).size;
  const b = fs.statSync(dst).size;
  if (a !== b) throw new SurgeryError(`the byte copied (${JSON.stringify(dst)}: ${b}) isn't equal to the initial db size (${JSON.stringify(src)}: ${a})`);
}

/** guts_cli.ReadPageAndHWMSize: page size and high-water mark from meta 0 (magic checked only). */
export function readPageAndHWMSize(path: string): { pageSize: number; hwm: bigint } {
  return withFd(path, 'r', (fd) => {
    const buf = readAt(fd, 4096, 0);
    if (buf.length < 4096) throw new SurgeryError(buf.length === 0 ? 'EOF' : 'unexpected EOF');
    if (u32(buf, PAGE_HEADER_SIZE) !== MAGIC) throw new SurgeryError('the Meta Page has wrong (unexpected) magic');
    return { pageSize: u32(buf, PAGE_HEADER_SIZE + 8), hwm: u64(buf, PAGE_HEADER_SIZE + 40) };
  });
}

/** guts_cli.ReadPage: the page `id` with its overflow pages, after the id and overflow checks. */
export function readPage(path: string, id: number): Uint8Array {
  let ps: { pageSize: number; hwm: bigint };
  try {
    ps = readPageAndHWMSize(path);
  } catch (e) {
    if (e instanceof SurgeryError) throw new SurgeryError(`read Page size: ${e.message}`, { cause: e });
    throw e;
  }
  const pageSize = ps.pageSize;
  if (pageSize === 0) throw new SurgeryError('read Page size: page size 0 in meta 0');
  return withFd(path, 'r', (fd) => {
    const off = id * pageSize;
    let buf = readAt(fd, pageSize, off);
    if (buf.length !== pageSize) throw new SurgeryError(buf.length === 0 ? 'EOF' : 'unexpected EOF');
    const hid = u64(buf, 0);
    if (hid !== BigInt(id)) throw new SurgeryError(`error: invalid value due to unexpected Page id: ${hid} != ${id}`);
    const overflow = u32(buf, 12);
    const limit = Number((ps.hwm - 3n) & 0xffffffffn); // Go: uint32(hwm) - 3
    if (overflow >= limit) {
      throw new SurgeryError(`error: invalid value, Page claims to have ${overflow} overflow pages (>=hwm=${ps.hwm}). Interrupting to avoid risky OOM`);
    }
    if (overflow === 0) return buf;
    buf = readAt(fd, (overflow + 1) * pageSize, off);
    if (buf.length !== (overflow + 1) * pageSize) throw new SurgeryError('unexpected EOF');
    return buf;
  });
}

/** guts_cli.WritePage: writes a page image at its own header id. */
export function writePage(path: string, buf: Uint8Array): void {
  const { pageSize } = readPageAndHWMSize(path);
  const overflow = u32(buf, 12);
  const expected = pageSize * (overflow + 1);
  if (expected !== buf.length) throw new SurgeryError(`WritePage: len(buf):${buf.length} != pageSize*(overflow+1):${expected}`);
  const id = Number(u64(buf, 0));
  withFd(path, 'r+', (fd) => {
    let done = 0;
    while (done < buf.length) done += fs.writeSync(fd, buf, done, buf.length - done, id * pageSize + done);
  });
}

/** surgeon.CopyPage: page `from` (with its overflow) is written over page `to`, with id `to`. */
export function copyPage(path: string, from: number, to: number): void {
  const buf = readPage(path, from).slice();
  put64(buf, 0, BigInt(to));
  writePage(path, buf);
}

/**
 * surgeon.RevertMetaPage: the meta with the lower txid (by the txid field alone, as Go's
 * GetActiveMetaPage, valid or not) is copied over the other, so the file is back at the
 * previous transaction. Returns the page that was overwritten (the formerly active one).
 */
export function revertMetaPage(path: string): 0 | 1 {
  const m0 = readPage(path, 0);
  const m1 = readPage(path, 1);
  const active: 0 | 1 = u64(m0, PAGE_HEADER_SIZE + 48) < u64(m1, PAGE_HEADER_SIZE + 48) ? 1 : 0;
  if (active === 0) copyPage(path, 1, 0);
  else copyPage(path, 0, 1);
  return active;
}

interface Inode {
  flags: number;
  pgid: bigint;
  key: Uint8Array;
  value: Uint8Array;
}

/** common.ReadInodeFromPage (copies: the page buffer is rewritten afterwards). */
function readInodes(buf: Uint8Array, pgid: number): Inode[] {
  const isLeaf = (u16(buf, 8) & LEAF_PAGE_FLAG) !== 0;
  const count = u16(buf, 10);
  const out: Inode[] = [];
  for (let i = 0; i < count; i++) {
    const e = PAGE_HEADER_SIZE + i * 16;
    if (e + 16 > buf.length) throw new SurgeryError(`page ${pgid}: element ${i} lies outside the page`);
    if (isLeaf) {
      const start = e + u32(buf, e + 4);
      const ks = u32(buf, e + 8);
      const vs = u32(buf, e + 12);
      if (start + ks + vs > buf.length) throw new SurgeryError(`page ${pgid}: element ${i} lies outside the page`);
      out.push({ flags: u32(buf, e), pgid: 0n, key: buf.slice(start, start + ks), value: buf.slice(start + ks, start + ks + vs) });
    } else {
      const start = e + u32(buf, e);
      const ks = u32(buf, e + 4);
      if (start + ks > buf.length) throw new SurgeryError(`page ${pgid}: element ${i} lies outside the page`);
      out.push({ flags: 0, pgid: u64(buf, e + 8), key: buf.slice(start, start + ks), value: new Uint8Array(0) });
    }
  }
  return out;
}

/** common.WriteInodeToPage: elements then key/value data, from offset 16; returns the bytes used. */
function writeInodes(inodes: Inode[], buf: Uint8Array): number {
  const isLeaf = (u16(buf, 8) & LEAF_PAGE_FLAG) !== 0;
  let off = PAGE_HEADER_SIZE + 16 * inodes.length;
  inodes.forEach((n, i) => {
    const e = PAGE_HEADER_SIZE + i * 16;
    if (isLeaf) {
      put32(buf, e, n.flags);
      put32(buf, e + 4, off - e);
      put32(buf, e + 8, n.key.length);
      put32(buf, e + 12, n.value.length);
    } else {
      put32(buf, e, off - e);
      put32(buf, e + 4, n.key.length);
      put64(buf, e + 8, n.pgid);
    }
    buf.set(n.key, off);
    buf.set(n.value, off + n.key.length);
    off += n.key.length + n.value.length;
  });
  return off;
}

/**
 * surgeon.ClearPageElements: removes elements [start, end) (end -1: to the end) of a branch
 * or leaf page, and shrinks its overflow to what the rest needs. Returns true when the
 * freelist should be abandoned: the overflow changed (pages dropped out of every tree) or
 * branch elements were cleared (their subtrees did). Go's error texts.
 */
export function clearPageElements(path: string, pgid: number, start: number, end: number): boolean {
  let buf: Uint8Array;
  try {
    buf = readPage(path, pgid).slice();
  } catch (e) {
    if (e instanceof SurgeryError) throw new SurgeryError(`ReadPage failed: ${e.message}`, { cause: e });
    throw e;
  }
  const flags = u16(buf, 8);
  const isLeaf = (flags & LEAF_PAGE_FLAG) !== 0;
  const isBranch = (flags & BRANCH_PAGE_FLAG) !== 0;
  if (!isLeaf && !isBranch) throw new SurgeryError(`can't clear elements in ${JSON.stringify(pageTypeName(flags))} page`);
  const count = u16(buf, 10);
  if (count === 0) return false;
  if (start < 0 || start >= count) throw new SurgeryError(`the start index (${start}) is out of range [0, ${count})`);
  if ((end < 0 || end > count) && end !== -1) throw new SurgeryError(`the end index (${end}) is out of range [0, ${count}]`);
  if (start > end && end !== -1) throw new SurgeryError(`the start index (${start}) is bigger than the end index (${end})`);
  if (start === end) throw new SurgeryError(`invalid: the start index (${start}) is equal to the end index (${end})`);

  const preOverflow = u32(buf, 12);
  const inodes = readInodes(buf, pgid);
  let dataWritten: number;
  if (end === count || end === -1) {
    const kept = inodes.slice(0, start);
    put16(buf, 10, start);
    dataWritten = PAGE_HEADER_SIZE + 16 * kept.length + kept.reduce((s, n) => s + n.key.length + n.value.length, 0);
  } else {
    const kept = [...inodes.slice(0, start), ...inodes.slice(end)];
    put16(buf, 10, kept.length);
    dataWritten = writeInodes(kept, buf);
  }
  const { pageSize } = readPageAndHWMSize(path);
  const overflow = dataWritten % pageSize === 0 ? dataWritten / pageSize - 1 : Math.floor(dataWritten / pageSize);
  put32(buf, 12, overflow);
  try {
    writePage(path, buf.subarray(0, pageSize * (overflow + 1)));
  } catch (e) {
    if (e instanceof SurgeryError) throw new SurgeryError(`WritePage failed: ${e.message}`, { cause: e });
    throw e;
  }
  return preOverflow !== overflow || isBranch;
}

/**
 * surgeon.ClearPage: all elements of the page removed (a leaf becomes an empty leaf; a branch
 * stays a branch with no elements, as in Go). Returns ClearPageElements' abandon hint.
 */
export function clearPage(path: string, pgid: number): boolean {
  return clearPageElements(path, pgid, 0, -1);
}

/** surgeon.ClearFreelist: both metas get freelist = PGID_NO_FREELIST and a fresh checksum. */
export function clearFreelist(path: string): void {
  for (const id of [0, 1]) {
    let buf: Uint8Array;
    try {
      buf = readPage(path, id).slice();
    } catch (e) {
      if (e instanceof SurgeryError) throw new SurgeryError(`clearFreelist on meta page ${id} failed: ReadPage ${id} failed: ${e.message}`, { cause: e });
      throw e;
    }
    const m = PAGE_HEADER_SIZE;
    put64(buf, m + 32, PGID_NO_FREELIST);
    put64(buf, m + 56, fnv64a(buf, m, m + 56));
    writePage(path, buf);
  }
}

/** The meta stored at `buf[16..80]`, fields as bigint (surgery shows what is there, valid or not). */
export interface RawMeta {
  magic: number;
  version: number;
  pageSize: number;
  flags: number;
  root: bigint;
  sequence: bigint;
  freelist: bigint;
  pgid: bigint;
  txid: bigint;
  checksum: bigint;
}

export function decodeRawMeta(buf: Uint8Array): RawMeta {
  const m = PAGE_HEADER_SIZE;
  return {
    magic: u32(buf, m),
    version: u32(buf, m + 4),
    pageSize: u32(buf, m + 8),
    flags: u32(buf, m + 12),
    root: u64(buf, m + 16),
    sequence: u64(buf, m + 24),
    freelist: u64(buf, m + 32),
    pgid: u64(buf, m + 40),
    txid: u64(buf, m + 48),
    checksum: u64(buf, m + 56),
  };
}

/** common.Meta.Validate (1.4: a zero checksum is not accepted). */
export function validateRawMeta(buf: Uint8Array): BoltError | undefined {
  const m = PAGE_HEADER_SIZE;
  if (u32(buf, m) !== MAGIC) return new ErrInvalid();
  if (u32(buf, m + 4) !== VERSION) return new ErrVersionMismatch();
  if (u64(buf, m + 56) !== fnv64a(buf, m, m + 56)) return new ErrChecksum();
  return undefined;
}

/**
 * ReadMetaPageAt (command_surgery_meta.go): 1024 bytes at metaPageId * pageSize. Go passes
 * pageSize 0 for meta 0 and meta 0's pageSize for meta 1.
 */
export function readMetaPageAt(path: string, metaPageId: 0 | 1, pageSize: number): Uint8Array {
  return withFd(path, 'r', (fd) => {
    const buf = readAt(fd, 1024, metaPageId * pageSize);
    if (buf.length !== 1024) throw new SurgeryError(buf.length === 0 ? 'EOF' : 'unexpected EOF');
    return buf;
  });
}

export interface MetaValidation {
  page: 0 | 1;
  meta: RawMeta;
  /** bbolt's validation error, undefined when the meta is valid. */
  error: BoltError | undefined;
}

/** `surgery meta validate`: both metas (meta 1 at meta 0's page size, as Go reads it). */
export function validateMetaPages(path: string): MetaValidation[] {
  const out: MetaValidation[] = [];
  let pageSize = 0;
  for (const i of [0, 1] as const) {
    let buf: Uint8Array;
    try {
      buf = readMetaPageAt(path, i, pageSize);
    } catch (e) {
      if (e instanceof SurgeryError) throw new SurgeryError(`read meta page ${i} failed: ${e.message}`, { cause: e });
      throw e;
    }
    const meta = decodeRawMeta(buf);
    out.push({ page: i, meta, error: validateRawMeta(buf) });
    pageSize = meta.pageSize;
  }
  return out;
}

/** Fields `meta update` may set: bbolt 1.4's four, plus txid (our extension). */
export const META_UPDATE_FIELDS = ['pageSize', 'root', 'freelist', 'pgid', 'txid'] as const;
export type MetaUpdateField = (typeof META_UPDATE_FIELDS)[number];

/**
 * `surgery meta update`: sets the named fields of meta `metaPageId` (root also resets the root
 * sequence to 0, as Go's NewInBucket(root, 0)); then, as Go's updateMetaField, magic, version and
 * the meta's flags field (to META_PAGE_FLAG, 0x04) are set when they differ, and the checksum is
 * recomputed. Writes only when something changed. Returns whether it did, and, for meta 1, the
 * page size read from meta 0 (for Go's mismatch warning).
 */
export function updateMeta(
  path: string,
  fields: ReadonlyMap<MetaUpdateField, bigint>,
  metaPageId: 0 | 1 = 0,
): { changed: boolean; pageSize0: number; meta: RawMeta } {
  let pageSize = 0;
  if (metaPageId === 1) {
    try {
      pageSize = decodeRawMeta(readMetaPageAt(path, 0, 0)).pageSize;
    } catch (e) {
      if (e instanceof SurgeryError) throw new SurgeryError(`read the first meta page failed: ${e.message}`, { cause: e });
      throw e;
    }
  }
  let buf: Uint8Array;
  try {
    buf = readMetaPageAt(path, metaPageId, pageSize);
  } catch (e) {
    if (e instanceof SurgeryError) throw new SurgeryError(`read meta page ${metaPageId} failed: ${e.message}`, { cause: e });
    throw e;
  }
  const m = PAGE_HEADER_SIZE;
  let changed = false;
  for (const [k, v0] of fields) {
    const v = v0 & U64_MASK;
    switch (k) {
      case 'pageSize':
        put32(buf, m + 8, Number(v & 0xffffffffn));
        break;
      case 'root':
        put64(buf, m + 16, v);
        put64(buf, m + 24, 0n);
        break;
      case 'freelist':
        put64(buf, m + 32, v);
        break;
      case 'pgid':
        put64(buf, m + 40, v);
        break;
      case 'txid':
        put64(buf, m + 48, v);
        break;
    }
    changed = true;
  }
  if (u32(buf, m) !== MAGIC) {
    put32(buf, m, MAGIC);
    changed = true;
  }
  if (u32(buf, m + 4) !== VERSION) {
    put32(buf, m + 4, VERSION);
    changed = true;
  }
  if (u32(buf, m + 12) !== META_PAGE_FLAG) {
    put32(buf, m + 12, META_PAGE_FLAG);
    changed = true;
  }
  const sum = fnv64a(buf, m, m + 56);
  if (u64(buf, m + 56) !== sum) {
    put64(buf, m + 56, sum);
    changed = true;
  }
  if (changed) {
    withFd(path, 'r+', (fd) => {
      let done = 0;
      while (done < buf.length) done += fs.writeSync(fd, buf, done, buf.length - done, metaPageId * pageSize + done);
    });
  }
  return { changed, pageSize0: pageSize, meta: decodeRawMeta(buf) };
}

/** True when meta.freelist is a page id (not PGID_NO_FREELIST), read from the active meta as Go's readMetaPage. */
export function isFreelistPersisted(path: string): boolean {
  const { pageSize } = readPageAndHWMSize(path);
  const metas = [0, 1].map((i) => decodeRawMeta(readMetaPageAt(path, i as 0 | 1, pageSize)));
  const m = metas[0]!.txid > metas[1]!.txid ? metas[0]! : metas[1]!;
  return m.freelist !== PGID_NO_FREELIST;
}

/**
 * `surgery freelist rebuild`: opens the file read-write without NoFreelistSync, so the engine
 * scans the trees for free pages and commits a new freelist page.
 *
 * bbolt refuses when the active meta names a freelist page (ErrSurgeryFreelistAlreadyExist);
 * so do we, except (our extension) when that page is not a readable freelist page (zeroed,
 * wrong type, or past the end of the file): then the freelist is abandoned first and rebuilt.
 * Returns whether it had to abandon a damaged freelist.
 */
export function rebuildFreelist(path: string, mode?: number): { abandonedDamaged: boolean } {
  const abandonedDamaged = checkFreelistRebuild(path).damaged;
  if (abandonedDamaged) clearFreelist(path);
  const db = open(path, { timeout: 1000, ...(mode !== undefined ? { mode } : {}) });
  db.close();
  return { abandonedDamaged };
}

/**
 * The check `freelist rebuild` makes before it copies anything: throws
 * ErrSurgeryFreelistAlreadyExist when the active meta names a readable freelist page;
 * `damaged` is true when it names one that cannot be read (our extension: rebuilt anyway).
 */
export function checkFreelistRebuild(path: string): { damaged: boolean } {
  if (!isFreelistPersisted(path)) return { damaged: false };
  if (!activeFreelistDamaged(path)) throw new ErrSurgeryFreelistAlreadyExist();
  return { damaged: true };
}

/** Whether the active meta's freelist page cannot be read as a freelist page. */
function activeFreelistDamaged(path: string): boolean {
  const { pageSize } = readPageAndHWMSize(path);
  const metas = [0, 1].map((i) => decodeRawMeta(readMetaPageAt(path, i as 0 | 1, pageSize)));
  const m = metas[0]!.txid > metas[1]!.txid ? metas[0]! : metas[1]!;
  if (m.freelist > BigInt(Number.MAX_SAFE_INTEGER)) return true;
  let buf: Uint8Array;
  try {
    buf = readPage(path, Number(m.freelist));
  } catch (e) {
    if (e instanceof BoltError) return true;
    throw e;
  }
  if ((u16(buf, 8) & FREELIST_PAGE_FLAG) === 0) return true;
  let count = u16(buf, 10);
  let start = PAGE_HEADER_SIZE;
  if (count === 0xffff) {
    if (buf.length < PAGE_HEADER_SIZE + 8) return true;
    const c = u64(buf, PAGE_HEADER_SIZE);
    if (c > BigInt(buf.length)) return true;
    count = Number(c);
    start += 8;
  }
  if (start + count * 8 > buf.length) return true;
  for (let i = 0; i < count; i++) {
    const id = u64(buf, start + i * 8);
    if (id < 2n || id >= m.pgid) return true;
  }
  return false;
}
