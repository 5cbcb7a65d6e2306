// tsbolt: the bbolt command line tool, printing byte for byte what bbolt 1.3.7's CLI prints.
//
//   tsbolt info|check|buckets|pages PATH           (engine, read-only open)
//   tsbolt keys PATH BUCKET...  /  get PATH BUCKET... KEY
//   tsbolt stats PATH [PREFIX]
//   tsbolt page PATH ID... | page -all PATH  /  page-item PATH ID ITEM  /  dump PATH ID...
//                                                  (raw file reads, as bbolt's guts_cli)
//   tsbolt compact -o DST SRC  /  tsbolt bench [flags]
//
// As in Go, flags come before positional arguments and are parsed per command (Go's flag
// package, see format/goflag.ts); errors are printed to stdout as one line with exit status 1,
// usage texts to stderr with exit status 2. `--json` (our extension; see README.md) switches
// info/check/buckets/keys/get/pages/stats to one JSON document on stdout.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open, BoltError, BoltIOError, ErrFileTooSmall, ErrSnapshotUnstable, type DB, type Tx, type Bucket } from '../bolt/index.js';
import { addStats, emptyStats, type BucketStats } from '../bolt/bucket.js';
import { compact } from '../bolt/compact.js';
import { salvage, salvageSummary } from '../bolt/salvage.js';
import { pageMap } from '../bolt/pagemap.js';
import { renderPageMapHTML } from './format/pagemap-html.js';
import {
  META_UPDATE_FIELDS,
  checkFreelistRebuild,
  clearFreelist,
  clearPage,
  clearPageElements,
  copyFileForSurgery,
  copyPage,
  isFreelistPersisted,
  rebuildFreelist,
  revertMetaPage,
  updateMeta,
  validateMetaPages,
  type MetaUpdateField,
} from '../bolt/surgery.js';
import {
  FORMAT_MODES,
  bytesToAsciiOrHex,
  formatBytes,
  hexdumpPage,
  leafElement,
  pageType,
  percent32,
  printBranch,
  printFreelist,
  printLeaf,
  printMeta,
  readHeader,
  type Sink,
} from './format/bolt.js';
import {
  CliError,
  UsageError,
  ERR_BUCKET_NOT_FOUND,
  ERR_BUCKET_REQUIRED,
  ERR_CORRUPT,
  ERR_FILE_NOT_FOUND,
  ERR_INVALID_VALUE,
  ERR_KEY_NOT_FOUND,
  ERR_KEY_REQUIRED,
  ERR_NON_DIVISIBLE_BATCH_SIZE,
  ERR_PAGE_ID_REQUIRED,
  ERR_PATH_REQUIRED,
  ERR_UNKNOWN_COMMAND,
} from './format/errors.js';
import { FlagError, FlagSet, parseGoInt } from './format/goflag.js';
import { goQuote, goQuoteString, goUnicode, hex } from './format/gostring.js';

// ---------------------------------------------------------------------------------------------
// Output

/** Where output goes: anything with write(), such as process.stdout or a test collector. */
export interface Writer {
  write(chunk: string | Uint8Array): unknown;
}
export interface CliIO {
  stdout: Writer;
  stderr: Writer;
}

/** Buffers stdout (flushed in 64 KiB blocks and before anything is written to stderr). */
class Output {
  private chunks: Uint8Array[] = [];
  private size = 0;
  constructor(private readonly io: CliIO) {}

  readonly out: Sink = (c) => {
    const b = typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c);
    this.chunks.push(b);
    this.size += b.length;
    if (this.size >= 1 << 16) this.flush();
  };
  readonly err: Sink = (c) => {
    this.flush();
    this.io.stderr.write(typeof c === 'string' ? c : Buffer.from(c));
  };
  flush(): void {
    if (this.size === 0 && this.chunks.length === 0) return;
    const all = Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    this.size = 0;
    this.io.stdout.write(all);
  }
}

// ---------------------------------------------------------------------------------------------
// Opening files

/** How long a read command waits for the shared flock before giving up (bbolt waits forever). */
export const LOCK_TIMEOUT_MS = 1000;

/** Go's text for the errno values an open can fail with. */
const GO_ERRNO: Record<string, string> = {
  EACCES: 'permission denied',
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'file name too long',
  EPERM: 'operation not permitted',
  EIO: 'input/output error',
};
function goErrnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code && GO_ERRNO[code]) return GO_ERRNO[code]!;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Opens a database for a read command: read-only (so the file's bytes and mtime never change),
 * shared flock with a short timeout. Every read command goes through here; lock-free live
 * reading can replace this one function.
 */
export function openForRead(file: string): DB {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(file);
  } catch {
    st = undefined;
  }
  // Go opens a directory, fails to read a meta from it, and reports an invalid database.
  if (st?.isDirectory()) throw new CliError('invalid database');
  try {
    // Never hang on a file another process holds locked (containerd, a bbolt writer): take
    // the shared lock when it is free, else read a validated lock-free snapshot.
    return open(file, { readOnly: true, lock: 'auto' });
  } catch (e) {
    if (e instanceof ErrSnapshotUnstable) {
      throw new CliError(`${file} is locked and being written by another process: ${e.message}`, { cause: e });
    }
    // bbolt 1.3.7 tries to initialise an empty file through its read-only descriptor.
    if (e instanceof ErrFileTooSmall && st?.size === 0) throw new CliError(`write ${file}: bad file descriptor`, { cause: e });
    if (e instanceof BoltIOError && e.syscall === 'open') throw new CliError(`open ${file}: ${goErrnoText(e.cause)}`, { cause: e });
    throw e;
  }
}

/** main.go's check: an empty path, then a path that does not exist. */
function requirePath(p: string): void {
  if (p === '') throw new CliError(ERR_PATH_REQUIRED);
  try {
    fs.statSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(ERR_FILE_NOT_FOUND);
  }
}

function withDB<T>(file: string, fn: (db: DB) => T): T {
  const db = openForRead(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Raw page reads, as bbolt's internal/guts_cli (page, page-item, dump). They read the file with
// plain reads, take the page size and high-water mark from meta 0 (checking only its magic),
// and work on files the engine refuses to open.

const MAGIC = 0xed0cdaed;
const U64 = 0xffffffffffffffffn;

class RawFile {
  private constructor(
    readonly fd: number,
    readonly path: string,
    readonly size: number,
  ) {}
  static open(p: string): RawFile {
    let fd: number;
    try {
      fd = fs.openSync(p, 'r');
    } catch (e) {
      throw new CliError(`open ${p}: ${goErrnoText(e)}`, { cause: e });
    }
    let size = 0;
    try {
      const st = fs.fstatSync(fd);
      size = st.isDirectory() ? -1 : st.size;
    } catch {
      size = 0;
    }
    return new RawFile(fd, p, size);
  }
  close(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // closed already
    }
  }
  /** os.File.ReadAt: the whole buffer, or Go's error text ("EOF", "negative offset", ...). */
  readAt(len: bigint, off: bigint): Uint8Array {
    if (off >= 1n << 63n) throw new CliError(`readat ${this.path}: negative offset`);
    if (this.size < 0) throw new CliError(`read ${this.path}: is a directory`);
    if (len === 0n) return new Uint8Array(0);
    if (off + len > BigInt(this.size)) throw new CliError('EOF');
    const n = Number(len);
    const buf = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      let got: number;
      try {
        got = fs.readSync(this.fd, buf, done, n - done, off + BigInt(done));
      } catch (e) {
        throw new CliError(`read ${this.path}: ${goErrnoText(e)}`, { cause: e });
      }
      if (got === 0) throw new CliError('EOF');
      done += got;
    }
    return buf;
  }
}

/** guts_cli.ReadPageAndHWMSize: page size and high-water mark from meta 0. */
function readPageAndHWMSize(p: string): { pageSize: bigint; hwm: bigint } {
  const f = RawFile.open(p);
  try {
    if (f.size < 0) throw new CliError(`read ${p}: is a directory`);
    if (f.size < 4096) throw new CliError(f.size === 0 ? 'EOF' : 'unexpected EOF');
    const buf = f.readAt(4096n, 0n);
    const dv = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    if (dv.readUInt32LE(16) !== MAGIC) throw new CliError('the Meta Page has wrong (unexpected) magic');
    return { pageSize: BigInt(dv.readUInt32LE(24)), hwm: dv.readBigUInt64LE(56) };
  } finally {
    f.close();
  }
}

/** guts_cli.ReadPage: the page with its overflow, after its id and overflow checks. */
function readRawPage(p: string, id: bigint): { buf: Uint8Array; overflow: number } {
  let ps: { pageSize: bigint; hwm: bigint };
  try {
    ps = readPageAndHWMSize(p);
  } catch (e) {
    if (e instanceof CliError) throw new CliError(`read Page size: ${e.message}`, { cause: e });
    throw e;
  }
  const f = RawFile.open(p);
  try {
    const off = (id * ps.pageSize) & U64;
    let buf = f.readAt(ps.pageSize, off);
    const h = readHeader(buf);
    if (h.id !== id) throw new CliError(`error: ${ERR_CORRUPT} due to unexpected Page id: ${h.id} != ${id}`);
    const limit = (Number(ps.hwm & 0xffffffffn) - 3) >>> 0;
    if (h.overflow >= limit) {
      throw new CliError(`error: ${ERR_CORRUPT}, Page claims to have ${h.overflow} overflow pages (>=hwm=${ps.hwm}). Interrupting to avoid risky OOM`);
    }
    buf = f.readAt(((BigInt(h.overflow) + 1n) * ps.pageSize) & U64, off);
    const h2 = readHeader(buf);
    if (h2.id !== id) throw new CliError(`error: ${ERR_CORRUPT} due to unexpected Page id: ${h2.id} != ${id}`);
    return { buf, overflow: h2.overflow };
  } finally {
    f.close();
  }
}

/** strconv.ParseUint(s, 10, 64) with Go's error text. */
function parseUint64(s: string): bigint {
  if (!/^[0-9]+$/.test(s)) throw new CliError(`strconv.ParseUint: parsing ${goQuoteString(s)}: invalid syntax`);
  const v = BigInt(s);
  if (v > U64) throw new CliError(`strconv.ParseUint: parsing ${goQuoteString(s)}: value out of range`);
  return v;
}
function parsePageIds(args: string[]): bigint[] {
  return args.map(parseUint64);
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the engine commands

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** The bytes as text when they are valid UTF-8, else null (JSON output). */
function textOrNull(b: Uint8Array): string | null {
  try {
    return utf8.decode(b);
  } catch {
    return null;
  }
}
function toBytes(s: string): Uint8Array {
  return Buffer.from(s, 'utf8');
}

/** Walks tx.Bucket(names[0]).Bucket(names[1])...; "bucket not found" when one is missing. */
function findBucket(tx: Tx, names: Uint8Array[]): Bucket {
  let b = tx.bucket(names[0]!);
  if (!b) throw new CliError(ERR_BUCKET_NOT_FOUND);
  for (const n of names.slice(1)) {
    b = b.bucket(n);
    if (!b) throw new CliError(ERR_BUCKET_NOT_FOUND);
  }
  return b;
}

function writeln(w: Sink, v: string | Uint8Array): void {
  w(v);
  w('\n');
}

function writeJSON(w: Sink, v: unknown): void {
  w(JSON.stringify(v) + '\n');
}

/**
 * The CLI prints check findings through bbolt's cmdKvStringer (printable keys as text, others
 * as hex); the engine renders keys as hex. Re-render them.
 */
function cliCheckMessage(s: string): string {
  const asText = (h: string): string => {
    const v = bytesToAsciiOrHex(Buffer.from(h, 'hex'));
    return typeof v === 'string' ? v : Buffer.from(v).toString('utf8');
  };
  return s
    .replace(/\(hex\)([0-9a-f]*)/g, (_m, h: string) => '(hex)' + asText(h))
    .replace(/ancestor \(([0-9a-f]*)\)/g, (_m, h: string) => `ancestor (${asText(h)})`);
}

// ---------------------------------------------------------------------------------------------
// Commands

interface Ctx {
  out: Sink;
  err: Sink;
  /** The command's arguments as bytes (argv may carry bytes that are not UTF-8). */
  raw: Uint8Array[];
}

/** The bytes of the positional arguments left by a flag set (flags only ever take a prefix). */
function rawArgs(ctx: Ctx, f: FlagSet): Uint8Array[] {
  const n = f.args().length;
  return n === 0 ? [] : ctx.raw.slice(ctx.raw.length - n);
}

/** A flag set printing to stderr, with `-h` and (optionally) the hidden --json flag. */
function flagSet(ctx: Ctx): FlagSet {
  return new FlagSet((s) => ctx.err(s));
}

/** Parses flags; -h prints the command's usage (exit 2). */
function parseFlags(ctx: Ctx, fs_: FlagSet, help: () => boolean, args: string[], usage: string): void {
  fs_.parse(args);
  if (help()) {
    ctx.err(usage + '\n');
    throw new UsageError();
  }
}

const USAGE_MAIN = `Bbolt is a tool for inspecting bbolt databases.

Usage:

	bbolt command [arguments]

The commands are:

    bench       run synthetic benchmark against bbolt
    buckets     print a list of buckets
    check       verifies integrity of bbolt database
    compact     copies a bbolt database, compacting it in the process
    dump        print a hexadecimal dump of a single page
    get         print the value of a key in a bucket
    info        print basic info
    keys        print a list of keys in a bucket
    help        print this screen
    page        print one or more pages in human readable format
    pages       print list of pages with their types
    page-item   print the key and value of a page item.
    stats       iterate over all pages and generate usage stats
    surgery     perform surgery on bbolt database

Use "bbolt [command] -h" for more information about a command.
`;

const USAGE_CHECK = `usage: bolt check PATH

Check opens a database at PATH and runs an exhaustive check to verify that
all pages are accessible or are marked as freed. It also verifies that no
pages are double referenced.

Verification errors will stream out as they are found and the process will
return after all pages have been checked.
`;

function cmdCheck(ctx: Ctx, args: string[]): void {
  const f = flagSet(ctx);
  const help = f.bool('h', false, '');
  const json = f.bool('json', false, 'print JSON', true);
  parseFlags(ctx, f, help, args, USAGE_CHECK);
  const p = f.arg(0);
  requirePath(p);
  withDB(p, (db) => {
    db.loadFreelist(); // bbolt's PreLoadFreelist
    db.view((tx) => {
      const found: string[] = [];
      for (const finding of tx.checkIter()) {
        const msg = cliCheckMessage(finding);
        found.push(msg);
        if (!json()) writeln(ctx.out, msg);
      }
      if (json()) {
        writeJSON(ctx.out, { ok: found.length === 0, errors: found });
        if (found.length > 0) throw new CliError(ERR_CORRUPT, { cause: 'json-reported' });
        return;
      }
      if (found.length > 0) {
        ctx.out(`${found.length} errors found\n`);
        throw new CliError(ERR_CORRUPT);
      }
      ctx.out('OK\n');
    });
  });
}

const USAGE_INFO = `usage: bolt info PATH

Info prints basic information about the Bolt database at PATH.
`;

function cmdInfo(ctx: Ctx, args: string[]): void {
  const f = flagSet(ctx);
  const help = f.bool('h', false, '');
  const json = f.bool('json', false, 'print JSON', true);
  parseFlags(ctx, f, help, args, USAGE_INFO);
  const p = f.arg(0);
  requirePath(p);
  withDB(p, (db) => {
    const info = db.info();
    if (json()) {
      const m = db.meta();
      writeJSON(ctx.out, { pageSize: info.pageSize, txid: m.txid, root: m.root, freelist: m.freelist ?? null, hwm: m.pgid });
      return;
    }
    ctx.out(`Page Size: ${info.pageSize}\n`);
  });
}

const USAGE_DUMP = `usage: bolt dump PATH pageid [pageid...]

Dump prints a hexadecimal dump of one or more pages.
`;

function cmdDump(ctx: Ctx, args: string[]): void {
  const f = flagSet(ctx);
  const help = f.bool('h', false, '');
  parseFlags(ctx, f, help, args, USAGE_DUMP);
  const p = f.arg(0);
  requirePath(p);
  const ids = parsePageIds(f.args().slice(1));
  if (ids.length === 0) throw new CliError(ERR_PAGE_ID_REQUIRED);
  const { pageSize } = readPageAndHWMSize(p);
  const file = RawFile.open(p);
  try {
    ids.forEach((id, i) => {
      if (i > 0) ctx.out('===============================================\n');
      const addr = (id * pageSize) & U64;
      const buf = file.readAt(pageSize, addr);
      hexdumpPage(ctx.out, buf, addr);
    });
  } finally {
    file.close();
  }
}

const USAGE_PAGE_ITEM = `usage: bolt page-item [options] PATH pageid itemid

Additional options include:

	--key-only
		Print only the key
	--value-only
		Print only the value
	--format
		Output format. One of: ${FORMAT_MODES} (default=ascii-encoded)

page-item prints a page item key and value.
`;

function cmdPageItem(ctx: Ctx, args: string[]): void {
  const f = flagSet(ctx);
  const keyOnly = f.bool('key-only', false, 'Print only the key');
  const valueOnly = f.bool('value-only', false, 'Print only the value');
  const format = f.string('format', 'ascii-encoded', 'Output format. One of: ' + FORMAT_MODES);
  const help = f.bool('h', false, '');
  parseFlags(ctx, f, help, args, USAGE_PAGE_ITEM);
  if (keyOnly() && valueOnly()) throw new CliError('The --key-only or --value-only flag may be set, but not both.');
  const p = f.arg(0);
  requirePath(p);
  const pageId = parseUint64(f.arg(1));
  const itemId = Number(parseUint64(f.arg(2)) & 0xffffn);
  RawFile.open(p).close();
  const { buf } = readRawPage(p, pageId);
  const element = () => {
    const h = readHeader(buf);
    if (itemId >= h.count) throw new CliError(`leafPageElement: expected item index less than ${h.count}, but got ${itemId}.`);
    const t = pageType(h.flags);
    if (t !== 'leaf') throw new CliError(`leafPageElement: expected page type of 'leaf', but got '${t}'`);
    return leafElement(buf, itemId);
  };
  if (!valueOnly()) writeln(ctx.out, formatBytes(element().key, format()));
  if (!keyOnly()) writeln(ctx.out, formatBytes(element().value, format()));
}

const USAGE_PAGES = `usage: bolt pages PATH

Pages prints a table of pages with their type (meta, leaf, branch, freelist).
Leaf and branch pages will show a key count in the "items" column while the
freelist will show the number of free pages in the "items" column.

The "overflow" column shows the number of blocks that the page spills over
into. Normally there is no overflow but large keys and values can cause
a single page to take up multiple blocks.
`;

function cmdPages(ctx: Ctx, args: string[]): void {
  const f = flagSet(ctx);
  const help = f.bool('h', false, '');
  const json = f.bool('json', false, 'print JSON', true);
  parseFlags(ctx, f, help, args, USAGE_PAGES);
  const p = f.arg(0);
  requirePath(p);
  withDB(p, (db) => {
    const freelist = db.loadFreelist(); // bbolt's PreLoadFreelist
    if (!json()) {
      ctx.out('ID       TYPE       ITEMS  OVRFLW\n');
      ctx.out('======== ========== ====== ======\n');
    }
    const rows: { id: number; type: string; count?: number; overflow?: number }[] = [];
    db.view((tx) => {
      const ps = db.pageSize;
      const fileSize = db.file.size();
      const head = new Uint8Array(16);
      let lines: string[] = [];
      const flushLines = () => {
        if (lines.length) ctx.out(lines.join(''));
        lines = [];
      };
      try {
        for (let id = 0; id < tx.meta.pgid; ) {
          // tx.Page reads only the header (Go reads it from the mmap, past the end of the file too).
          if ((id + 1) * ps > fileSize || db.file.readAt(head, id * ps) !== 16) {
            throw new CliError(`page error: id=${id}, err=page ${id} lies past the end of the file (${Math.floor(fileSize / ps)} pages)`);
          }
          const dv = Buffer.from(head.buffer);
          const count = dv.readUInt16LE(10);
          const overflow = dv.readUInt32LE(12);
          const type = freelist.cache.has(id) ? 'free' : pageType(dv.readUInt16LE(8));
          if (json()) rows.push(type === 'free' ? { id, type } : { id, type, count, overflow });
          else {
            const c = type !== 'free' ? String(count) : '';
            const o = type !== 'free' && overflow > 0 ? String(overflow) : '';
            lines.push(`${String(id).padEnd(8)} ${type.padEnd(10)} ${c.padEnd(6)} ${o.padEnd(6)}\n`);
            if (lines.length >= 1024) flushLines();
          }
          id += 1;
          if (type !== 'free') id += overflow;
        }
      } finally {
        flushLines();
      }
    });
    if (json()) writeJSON(ctx.out, { pages: rows });
  });
}

const USAGE_STATS = `usage: bolt stats PATH

Stats performs an extensive search of the database to track every page
reference. It starts at the current meta page and recursively iterates
through every accessible bucket.

The following errors can be reported:

    already freed
        The page is referenced more than once in the freelist.

    unreachable unfreed
        The page is not referenced by a bucket or in the freelist.

    reachable freed
        The page is referenced by a bucket but is also in the freelist.

    out of bounds
        A page is referenced that is above the high water mark.

    multiple references
        A page is referenced by more than one other page.

    invalid type
        The page type is not "meta", "leaf", "branch", or "freelist".

No errors should occur in your database. However, if for some reason you
experience corruption, please submit a ticket to the Bolt project page:

  https://github.com/boltdb/bolt/issues
`;

function cmdStats(ctx: Ctx, args: string[]): void {
  const f = flagSet(ctx);
  const help = f.bool('h', false, '');
  const json = f.bool('json', false, 'print JSON', true);
  parseFlags(ctx, f, help, args, USAGE_STATS);
  const p = f.arg(0);
  const prefix = rawArgs(ctx, f)[1] ?? new Uint8Array(0);
  requirePath(p);
  withDB(p, (db) =>
    db.view((tx) => {
      const s: BucketStats = emptyStats();
      let count = 0;
      tx.forEach((name, b) => {
        if (Buffer.from(name).subarray(0, prefix.length).equals(prefix) && name.length >= prefix.length) {
          if (!b) throw new CliError(`key ${goQuote(name)} in the root bucket is not a bucket`);
          addStats(s, b.stats());
          count++;
        }
      });
      if (json()) {
        writeJSON(ctx.out, { prefix: textOrNull(prefix), bucketCount: count, stats: s });
        return;
      }
      const o = ctx.out;
      o(`Aggregate statistics for ${count} buckets\n\n`);
      o('Page count statistics\n');
      o(`\tNumber of logical branch pages: ${s.branchPageN}\n`);
      o(`\tNumber of physical branch overflow pages: ${s.branchOverflowN}\n`);
      o(`\tNumber of logical leaf pages: ${s.leafPageN}\n`);
      o(`\tNumber of physical leaf overflow pages: ${s.leafOverflowN}\n`);
      o('Tree statistics\n');
      o(`\tNumber of keys/value pairs: ${s.keyN}\n`);
      o(`\tNumber of levels in B+tree: ${s.depth}\n`);
      o('Page size utilization\n');
      o(`\tBytes allocated for physical branch pages: ${s.branchAlloc}\n`);
      o(`\tBytes actually used for branch data: ${s.branchInuse} (${percent32(s.branchInuse, s.branchAlloc)}%)\n`);
      o(`\tBytes allocated for physical leaf pages: ${s.leafAlloc}\n`);
      o(`\tBytes actually used for leaf data: ${s.leafInuse} (${percent32(s.leafInuse, s.leafAlloc)}%)\n`);
      o('Bucket statistics\n');
      o(`\tTotal number of buckets: ${s.bucketN}\n`);
      o(`\tTotal number on inlined buckets: ${s.inlineBucketN} (${percent32(s.inlineBucketN, s.bucketN)}%)\n`);
      o(`\tBytes used for inlined buckets: ${s.inlineBucketInuse} (${percent32(s.inlineBucketInuse, s.leafInuse)}%)\n`);
    }),
  );
}

const USAGE_BUCKETS = `usage: bolt buckets PATH

Print a list of buckets.
`;

function cmdBuckets(ctx: Ctx, args: string[]): void {
  const f = flagSet(ctx);
  const help = f.bool('h', false, '');
  const json = f.bool('json', false, 'print JSON', true);
  parseFlags(ctx, f, help, args, USAGE_BUCKETS);
  const p = f.arg(0);
  requirePath(p);
  withDB(p, (db) =>
    db.view((tx) => {
      const rows: { name: string | null; hex: string; bucket: boolean }[] = [];
      tx.forEach((name, b) => {
        if (json()) rows.push({ name: textOrNull(name), hex: hex(name), bucket: b !== undefined });
        else writeln(ctx.out, name);
      });
      if (json()) writeJSON(ctx.out, { buckets: rows });
    }),
  );
}

const USAGE_KEYS = `usage: bolt keys PATH [BUCKET...]

Print a list of keys in the given (sub)bucket.
=======

Additional options include:

	--format
		Output format. One of: ${FORMAT_MODES} (default=bytes)

Print a list of keys in the given bucket.
`;

function cmdKeys(ctx: Ctx, args: string[]): void {
  const f = flagSet(ctx);
  const format = f.string('format', 'bytes', 'Output format. One of: ' + FORMAT_MODES + ' (default: bytes)');
  const help = f.bool('h', false, '');
  const json = f.bool('json', false, 'print JSON', true);
  parseFlags(ctx, f, help, args, USAGE_KEYS);
  const rel = f.args();
  // Go indexes relevantArgs[0] and panics when there is none; we report the missing path.
  const p = rel[0] ?? '';
  const buckets = rawArgs(ctx, f).slice(1);
  requirePath(p);
  if (buckets.length === 0) throw new CliError(ERR_BUCKET_REQUIRED);
  withDB(p, (db) =>
    db.view((tx) => {
      const b = findBucket(tx, buckets);
      const rows: { key: string | null; hex: string; bucket: boolean }[] = [];
      b.forEach((k, v) => {
        if (json()) rows.push({ key: textOrNull(k), hex: hex(k), bucket: v === undefined });
        else writeln(ctx.out, formatBytes(k, format()));
      });
      if (json()) writeJSON(ctx.out, { bucket: buckets.map(textOrNull), keys: rows });
    }),
  );
}

const USAGE_GET = `usage: bolt get PATH [BUCKET..] KEY

Print the value of the given key in the given (sub)bucket.

Additional options include:

	--format
		Output format. One of: ${FORMAT_MODES} (default=bytes)
	--parse-format
		Input format (of key). One of: ascii-encoded|hex (default=ascii-encoded)"
`;

/** Go's hex.DecodeString, with its error texts. */
function goHexDecode(src: Uint8Array): Uint8Array {
  const val = (c: number): number => {
    if (c >= 0x30 && c <= 0x39) return c - 0x30;
    if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
    if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
    return -1;
  };
  const bad = (c: number) => new CliError(`encoding/hex: invalid byte: ${goUnicode(c)}`);
  const out = new Uint8Array(src.length >> 1);
  let j = 1;
  for (; j < src.length; j += 2) {
    const a = val(src[j - 1]!);
    const b = val(src[j]!);
    if (a < 0) throw bad(src[j - 1]!);
    if (b < 0) throw bad(src[j]!);
    out[(j - 1) >> 1] = (a << 4) | b;
  }
  if (src.length % 2 === 1) {
    if (val(src[j - 1]!) < 0) throw bad(src[j - 1]!);
    throw new CliError('encoding/hex: odd length hex string');
  }
  return out;
}

function parseBytes(s: Uint8Array, format: string): Uint8Array {
  switch (format) {
    case 'ascii-encoded':
      return s;
    case 'hex':
      return goHexDecode(s);
    default:
      throw new CliError(`parseBytes: unsupported format: ${format}`);
  }
}

function cmdGet(ctx: Ctx, args: string[]): void {
  const f = flagSet(ctx);
  const parseFormat = f.string('parse-format', 'ascii-encoded', 'Input format. One of: ascii-encoded|hex (default: ascii-encoded)');
  const format = f.string('format', 'bytes', 'Output format. One of: ' + FORMAT_MODES + ' (default: bytes)');
  const help = f.bool('h', false, '');
  const json = f.bool('json', false, 'print JSON', true);
  parseFlags(ctx, f, help, args, USAGE_GET);
  const rel = f.args();
  const raw = rawArgs(ctx, f);
  // Go slices relevantArgs[1:len-1] and panics with fewer than two; we report what is missing.
  const p = rel[0] ?? '';
  const buckets = rel.length >= 2 ? raw.slice(1, raw.length - 1) : [];
  const key = rel.length >= 2 ? parseBytes(raw[raw.length - 1]!, parseFormat()) : new Uint8Array(0);
  requirePath(p);
  if (buckets.length === 0) throw new CliError(ERR_BUCKET_REQUIRED);
  if (key.length === 0) throw new CliError(ERR_KEY_REQUIRED);
  withDB(p, (db) =>
    db.view((tx) => {
      const b = findBucket(tx, buckets);
      const v = b.get(key);
      if (v === undefined) throw new CliError(`Error ${ERR_KEY_NOT_FOUND} for key: ${goQuote(key)} hex: "${hex(key)}"`);
      if (json()) writeJSON(ctx.out, { bucket: buckets.map(textOrNull), key: textOrNull(key), keyHex: hex(key), value: textOrNull(v), valueHex: hex(v) });
      else writeln(ctx.out, formatBytes(v, format()));
    }),
  );
}

const USAGE_PAGE = `usage: bolt page PATH pageid [pageid...]
   or: bolt page --all PATH

Additional options include:

	--all
		prints all pages (only skips pages that were considered successful overflow pages) 
	--format-value=${FORMAT_MODES} (default: auto)
		prints values (on the leaf page) using the given format.

Page prints one or more pages in human readable format.
`;

/** pageCommand.printPage: the page's description; returns its overflow count. */
function printOnePage(ctx: Ctx, p: string, id: bigint, formatValue: string): number {
  const { buf } = readRawPage(p, id);
  const h = readHeader(buf);
  const w = ctx.out;
  w(`Page ID:    ${h.id}\n`);
  w(`Page Type:  ${pageType(h.flags)}\n`);
  w(`Total Size: ${buf.length} bytes\n`);
  w(`Overflow pages: ${h.overflow}\n`);
  switch (pageType(h.flags)) {
    case 'meta':
      printMeta(w, buf);
      break;
    case 'leaf':
      printLeaf(w, buf, formatValue);
      break;
    case 'branch':
      printBranch(w, buf);
      break;
    case 'freelist':
      printFreelist(w, buf);
      break;
  }
  return h.overflow;
}

function errorText(e: unknown): string {
  if (e instanceof CliError || e instanceof BoltError) return e.message;
  if (e instanceof RangeError) return `runtime error: ${e.message}`;
  throw e;
}

/** Pages `page -all` describes one by one past the end of the file before it stops early. */
const MAX_PAGES_PAST_EOF = 65536;

function cmdPage(ctx: Ctx, args: string[]): void {
  const f = flagSet(ctx);
  const help = f.bool('h', false, '');
  const all = f.bool('all', false, 'list all pages');
  const formatValue = f.string('format-value', 'auto', 'One of: ' + FORMAT_MODES + ' . Applies to values on the leaf page.');
  parseFlags(ctx, f, help, args, USAGE_PAGE);
  const p = f.arg(0);
  requirePath(p);
  const failed = (id: bigint, e: unknown) => ctx.out(`Prining page ${id} failed: ${errorText(e)}. Continuuing...\n`);
  if (!all()) {
    const ids = parsePageIds(f.args().slice(1));
    if (ids.length === 0) throw new CliError(ERR_PAGE_ID_REQUIRED);
    ids.forEach((id, i) => {
      if (i > 0) ctx.out('===============================================\n');
      try {
        printOnePage(ctx, p, id, formatValue());
      } catch (e) {
        failed(id, e);
      }
    });
    return;
  }
  let hwm = 0n;
  let pageSize = 0n;
  try {
    ({ hwm, pageSize } = readPageAndHWMSize(p));
  } catch (e) {
    ctx.out(`cannot read number of pages: ${errorText(e)}`);
  }
  const fileSize = BigInt(fs.statSync(p).size);
  let pastEnd = 0;
  for (let id = 0n; id < hwm; ) {
    if (id > 0n) ctx.out('===============================================\n');
    try {
      id += BigInt(printOnePage(ctx, p, id, formatValue())) + 1n;
    } catch (e) {
      failed(id, e);
      // Go goes on to the high-water mark whatever it is; a hostile one would run for ever.
      if (pageSize > 0n && id * pageSize >= fileSize && ++pastEnd >= MAX_PAGES_PAST_EOF && id + 1n < hwm) {
        throw new CliError(`page ${id + 1n} to ${hwm - 1n}: past the end of the file (high-water mark ${hwm} in meta 0); stopping`);
      }
      id++;
    }
  }
}

// ---- compact --------------------------------------------------------------------------------

const USAGE_COMPACT = `usage: bolt compact [options] -o DST SRC

Compact opens a database at SRC path and walks it recursively, copying keys
as they are found from all buckets, to a newly created database at DST path.

The original database is left untouched.

Additional options include:

	-tx-max-size NUM
		Specifies the maximum size of individual transactions.
		Defaults to 64KB.
`;

/** Go's %.2f. */
function fixed2(v: number): string {
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';
  return v.toFixed(2);
}

function cmdCompact(ctx: Ctx, args: string[]): void {
  const f = new FlagSet(undefined); // bbolt discards the flag package's output here
  const dst = f.string('o', '', '');
  const txMaxSize = f.int('tx-max-size', 65536, '');
  try {
    f.parse(args);
  } catch (e) {
    if (e instanceof FlagError && e.help) {
      ctx.err(USAGE_COMPACT + '\n');
      throw new UsageError();
    }
    throw e;
  }
  if (dst() === '') throw new CliError('output file required');
  const src = f.arg(0);
  if (src === '') throw new CliError(ERR_PATH_REQUIRED);
  let st: fs.Stats;
  try {
    st = fs.statSync(src);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(ERR_FILE_NOT_FOUND);
    throw new CliError(`stat ${src}: ${goErrnoText(e)}`);
  }
  const initialSize = st.size;
  const srcDB = openForRead(src);
  try {
    const created = !fs.existsSync(dst());
    let dstDB: DB;
    try {
      dstDB = open(dst(), { mode: st.mode & 0o777, timeout: LOCK_TIMEOUT_MS });
    } catch (e) {
      if (e instanceof BoltIOError && e.syscall === 'open') throw new CliError(`open ${dst()}: ${goErrnoText(e.cause)}`, { cause: e });
      throw e;
    }
    let copied = false;
    try {
      compact(dstDB, srcDB, txMaxSize());
      copied = true;
    } finally {
      dstDB.close();
      // A copy that stopped half way is a sound database missing what the source still had: one
      // we made goes (bbolt leaves it), one that was there keeps what it had and what came in.
      if (!copied && created) fs.rmSync(dst(), { force: true });
    }
  } finally {
    srcDB.close();
  }
  const size = fs.statSync(dst()).size;
  if (size === 0) throw new CliError('zero db size');
  ctx.out(`${initialSize} -> ${size} bytes (gain=${fixed2(initialSize / size)}x)\n`);
}

// ---- bench ----------------------------------------------------------------------------------

/** Go's time.Duration.String(). */
export function goDuration(ns: number): string {
  ns = Math.trunc(ns);
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(ns);
  let s: string;
  if (u < 1000) s = `${u}ns`;
  else if (u < 1e6) s = trimFrac(u / 1e3) + 'µs';
  else if (u < 1e9) s = trimFrac(u / 1e6) + 'ms';
  else {
    const h = Math.floor(u / 3.6e12);
    u -= h * 3.6e12;
    const m = Math.floor(u / 6e10);
    u -= m * 6e10;
    const sec = trimFrac(u / 1e9);
    s = (h > 0 ? `${h}h${m}m` : m > 0 ? `${m}m` : '') + sec + 's';
  }
  return neg ? '-' + s : s;
}
function trimFrac(v: number): string {
  // Go prints the exact decimal of an integer count of the smaller unit, trailing zeros cut.
  const t = v.toFixed(9);
  return t.replace(/\.?0+$/, '');
}

interface BenchOptions {
  profileMode: string;
  writeMode: string;
  readMode: string;
  iterations: number;
  batchSize: number;
  keySize: number;
  valueSize: number;
  fillPercent: number;
  noSync: boolean;
  work: boolean;
  path: string;
}

/** A Go math/rand-like source is not needed: random keys only have to be random. */
function randomU32(): number {
  return (Math.random() * 0x100000000) >>> 0;
}

function cmdBench(ctx: Ctx, args: string[]): void {
  const f = flagSet(ctx);
  const profileMode = f.string('profile-mode', 'rw', '');
  const writeMode = f.string('write-mode', 'seq', '');
  const readMode = f.string('read-mode', 'seq', '');
  const count = f.int('count', 1000, '');
  const batchSize = f.int('batch-size', 0, '');
  const keySize = f.int('key-size', 8, '');
  const valueSize = f.int('value-size', 32, '');
  f.string('cpuprofile', '', '');
  f.string('memprofile', '', '');
  f.string('blockprofile', '', '');
  const fillPercent = f.float64('fill-percent', 0.5, '');
  const noSync = f.bool('no-sync', false, '');
  const work = f.bool('work', false, '');
  const pathFlag = f.string('path', '', '');
  f.parse(args);
  const o: BenchOptions = {
    profileMode: profileMode(),
    writeMode: writeMode(),
    readMode: readMode(),
    iterations: count(),
    batchSize: batchSize(),
    keySize: keySize(),
    valueSize: valueSize(),
    fillPercent: fillPercent(),
    noSync: noSync(),
    work: work(),
    path: pathFlag(),
  };
  if (o.batchSize === 0) o.batchSize = o.iterations;
  else if (o.iterations % o.batchSize !== 0) throw new CliError(ERR_NON_DIVISIBLE_BATCH_SIZE);
  if (o.keySize < 4) throw new CliError(`key-size ${o.keySize}: keys hold a 4-byte big-endian counter`);
  if (o.path === '') o.path = path.join(os.tmpdir(), `bolt-bench-${process.pid}-${Date.now()}`);
  if (o.work) ctx.out(`work: ${o.path}\n`);
  const db = open(o.path, { noSync: o.noSync });
  try {
    const writeStart = process.hrtime.bigint();
    const nested = o.writeMode === 'seq-nest' || o.writeMode === 'rnd-nest';
    let seq = 0;
    let source: () => number;
    switch (o.writeMode) {
      case 'seq':
      case 'seq-nest':
        source = () => ++seq >>> 0;
        break;
      case 'rnd':
      case 'rnd-nest':
        source = randomU32;
        break;
      default:
        throw new CliError(`write: invalid write mode: ${o.writeMode}`);
    }
    const mk = (n: number, size: number): Uint8Array => {
      const b = new Uint8Array(size);
      new DataView(b.buffer).setUint32(0, n);
      return b;
    };
    try {
      for (let i = 0; i < o.iterations; i += o.batchSize) {
        db.update((tx) => {
          const top = tx.createBucketIfNotExists('bench');
          top.fillPercent = o.fillPercent;
          let b = top;
          if (nested) {
            b = top.createBucketIfNotExists(mk(source(), o.keySize));
            b.fillPercent = o.fillPercent;
          }
          for (let j = 0; j < o.batchSize; j++) b.put(mk(source(), o.keySize), new Uint8Array(o.valueSize));
        });
      }
    } catch (e) {
      throw new CliError(`write: ${errorText(e)}`, { cause: e });
    }
    const writeNs = Number(process.hrtime.bigint() - writeStart);
    const readStart = process.hrtime.bigint();
    let readOps = 0;
    if (o.readMode !== 'seq') throw new CliError(`bench: read: invalid read mode: ${o.readMode}`);
    db.view((tx) => {
      const t = process.hrtime.bigint();
      for (;;) {
        let n = 0;
        const top = tx.bucket('bench')!;
        if (nested) {
          top.forEach((name) => {
            const b = top.bucket(name);
            if (b) b.forEach(() => void n++);
          });
          if (o.writeMode === 'seq-nest' && n !== o.iterations) throw new CliError(`bench: read: read seq-nest: iter mismatch: expected ${o.iterations}, got ${n}`);
        } else {
          top.forEach((_k, v) => {
            if (v === undefined) throw new CliError(`bench: read: ${ERR_INVALID_VALUE}`);
            n++;
          });
          if (o.writeMode === 'seq' && n !== o.iterations) throw new CliError(`bench: read: read seq: iter mismatch: expected ${o.iterations}, got ${n}`);
        }
        readOps += n;
        if (process.hrtime.bigint() - t >= 1_000_000_000n) break;
      }
    });
    const readNs = Number(process.hrtime.bigint() - readStart);
    const opDur = (d: number, ops: number) => (ops === 0 ? 0 : Math.trunc(d / ops));
    const perSec = (op: number) => (op === 0 ? 0 : Math.trunc(1e9 / op));
    const wop = opDur(writeNs, o.iterations);
    const rop = opDur(readNs, readOps);
    ctx.err(`# Write\t${goDuration(writeNs)}\t(${goDuration(wop)}/op)\t(${perSec(wop)} op/sec)\n`);
    ctx.err(`# Read\t${goDuration(readNs)}\t(${goDuration(rop)}/op)\t(${perSec(rop)} op/sec)\n`);
    ctx.err('\n');
  } finally {
    db.close();
    if (!o.work) {
      try {
        fs.unlinkSync(o.path);
      } catch {
        // already gone
      }
    }
  }
}

// ---- salvage and surgery (flags parsed as spf13/pflag: interspersed, --name value) ----------

interface PFlagSpec {
  kind: 'string' | 'bool' | 'uint64' | 'uint32' | 'int' | 'stringSlice';
  /** One-letter shorthand (-o). */
  short?: string;
}

/** What pflag parsed: values by flag name (repeats kept in order) and the positional arguments. */
interface PFlags {
  values: Map<string, string[]>;
  args: string[];
}

/** spf13/pflag's parsing, reduced to what the surgery and salvage commands use; pflag's error texts. */
function parsePFlags(args: string[], specs: Record<string, PFlagSpec>): PFlags {
  const values = new Map<string, string[]>();
  const positional: string[] = [];
  const set = (name: string, spec: PFlagSpec, v: string, shown: string): void => {
    const bad = (why: string): never => {
      throw new CliError(`invalid argument ${goQuoteString(v)} for ${goQuoteString(shown)} flag: ${why}`);
    };
    if (spec.kind === 'uint64' || spec.kind === 'uint32') {
      const bits = spec.kind === 'uint64' ? 64 : 32;
      if (!/^[0-9]+$/.test(v)) bad(`strconv.ParseUint: parsing ${goQuoteString(v)}: invalid syntax`);
      if (BigInt(v) >= 1n << BigInt(bits)) bad(`strconv.ParseUint: parsing ${goQuoteString(v)}: value out of range`);
    } else if (spec.kind === 'int') {
      const n = parseGoInt(v);
      if (typeof n !== 'number') bad(`strconv.ParseInt: parsing ${goQuoteString(v)}: ${n === 'parse error' ? 'invalid syntax' : 'value out of range'}`);
    } else if (spec.kind === 'bool') {
      if (!['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) bad(`strconv.ParseBool: parsing ${goQuoteString(v)}: invalid syntax`);
    }
    values.set(name, [...(values.get(name) ?? []), v]);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const spec = specs[name];
      if (!spec) throw new CliError(`unknown flag: --${name}`);
      if (eq >= 0) set(name, spec, a.slice(eq + 1), `--${name}`);
      else if (spec.kind === 'bool') set(name, spec, 'true', `--${name}`);
      else if (i + 1 < args.length) set(name, spec, args[++i]!, `--${name}`);
      else throw new CliError(`flag needs an argument: --${name}`);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      const c = a[1]!;
      const entry = Object.entries(specs).find(([, s]) => s.short === c);
      if (!entry) throw new CliError(`unknown shorthand flag: '${c}' in ${a}`);
      const [name, spec] = entry;
      const rest = a.slice(2).replace(/^=/, '');
      if (spec.kind === 'bool') set(name, spec, rest === '' ? 'true' : rest, `-${c}, --${name}`);
      else if (rest !== '') set(name, spec, rest, `-${c}, --${name}`);
      else if (i + 1 < args.length) set(name, spec, args[++i]!, `-${c}, --${name}`);
      else throw new CliError(`flag needs an argument: '${c}' in -${c}`);
      continue;
    }
    positional.push(a);
  }
  return { values, args: positional };
}

const pflagLast = (f: PFlags, name: string): string | undefined => f.values.get(name)?.at(-1);

const USAGE_SALVAGE = `usage: tsbolt salvage [options] FILE -o OUT

Salvage reads the damaged bbolt database at FILE (read-only: its bytes and mtime never
change) and writes everything still readable to a new database at OUT, which must not exist.

It copies the tree of the newest valid meta page when it reads cleanly, else the older meta's;
else it copies every readable page of the newest valid meta's tree and scans the file for leaf
pages no tree reaches. A scanned page goes back into the bucket whose lost subtree it fits,
else into a top-level bucket named __salvaged__/<pageid>.

Options:

	-o, --output OUT
		The new database (required).
	--json-report R
		Write the detailed report (sources of every page, unreadable pages) as JSON to R.
	--page-size N
		Page size to assume when neither meta page is valid (default 4096).
	--include-free
		Also scan pages the freelist lists as free (stale copies of old data).
`;

function cmdSalvage(ctx: Ctx, args: string[]): void {
  if (args.some((a) => a === '-h' || a === '--help' || a === '-help')) {
    ctx.err(USAGE_SALVAGE + '\n');
    throw new UsageError();
  }
  const f = parsePFlags(args, {
    output: { kind: 'string', short: 'o' },
    'json-report': { kind: 'string' },
    'page-size': { kind: 'uint32' },
    'include-free': { kind: 'bool' },
    'always-scan': { kind: 'bool' },
  });
  const src = f.args[0] ?? '';
  if (src === '') throw new CliError(ERR_PATH_REQUIRED);
  if (f.args.length > 1) throw new CliError(`too many arguments: ${f.args.slice(1).join(' ')}`);
  const out = pflagLast(f, 'output') ?? '';
  if (out === '') throw new CliError('output file required');
  if (!fs.existsSync(src)) throw new CliError(ERR_FILE_NOT_FOUND);
  const isTrue = (n: string): boolean => ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(pflagLast(f, n) ?? 'false');
  const ps = pflagLast(f, 'page-size');
  const report = salvage(src, out, {
    ...(ps !== undefined ? { pageSize: Number(ps) } : {}),
    includeFreePages: isTrue('include-free'),
    alwaysScan: isTrue('always-scan'),
  });
  const jr = pflagLast(f, 'json-report');
  if (jr !== undefined && jr !== '') {
    try {
      fs.writeFileSync(jr, JSON.stringify(report, null, 2) + '\n');
    } catch (e) {
      throw new CliError(`write ${jr}: ${goErrnoText(e)}`, { cause: e });
    }
  }
  ctx.out(salvageSummary(report) + '\n');
}

const USAGE_MAP = `usage: tsbolt map [options] FILE [-o OUT.html]

Map writes one self-contained HTML page (no external resources) showing the page space of the
bbolt database at FILE, one cell per page coloured by kind (meta, freelist, branch, leaf,
overflow, free, unreachable, unallocated) with a legend of counts, and the bucket tree with the
keys, nested buckets, pages and bytes of every bucket. FILE is only read.

Options:

	-o, --output OUT
		Where to write the page (default: standard output).
	--title T
		The page's title (default: FILE).
`;

/** `map FILE [-o OUT]` (tsbolt only): the page map as HTML (src/bolt/pagemap.ts, format/pagemap-html.ts). */
function cmdMap(ctx: Ctx, args: string[]): void {
  if (args.some((a) => a === '-h' || a === '--help' || a === '-help')) {
    ctx.err(USAGE_MAP + '\n');
    throw new UsageError();
  }
  const f = parsePFlags(args, { output: { kind: 'string', short: 'o' }, title: { kind: 'string' } });
  const src = f.args[0] ?? '';
  requirePath(src);
  if (f.args.length > 1) throw new CliError(`too many arguments: ${f.args.slice(1).join(' ')}`);
  const html = withDB(src, (db) => db.view((tx) => renderPageMapHTML(pageMap(tx), pflagLast(f, 'title') ?? src)));
  const out = pflagLast(f, 'output');
  if (out === undefined || out === '' || out === '-') {
    ctx.out(html);
    return;
  }
  if (path.resolve(out) === path.resolve(src)) throw new CliError(`refusing to write the map over ${src}`);
  try {
    fs.writeFileSync(out, html);
  } catch (e) {
    throw new CliError(`write ${out}: ${goErrnoText(e)}`, { cause: e });
  }
}

const USAGE_SURGERY = `surgery related commands

Usage:
  bbolt surgery [command]

Available Commands:
  clear-page          Clears all elements from the given page, which can be a branch or leaf page
  clear-page-elements Clears elements from the given page, which can be a branch or leaf page
  copy-page           Copy page from the source page Id to the destination page Id
  freelist            freelist related surgery commands
  meta                meta page related surgery commands
  revert-meta-page    Revert the meta page to revert the changes performed by the latest transaction

Flags:
  -h, --help   help for surgery

Use "bbolt surgery [command] --help" for more information about a command.
`;

const USAGE_SURGERY_FREELIST = `freelist related surgery commands

Usage:
  bbolt surgery freelist [command]

Available Commands:
  abandon     Abandon the freelist from both meta pages
  rebuild     Rebuild the freelist

Flags:
  -h, --help   help for freelist

Use "bbolt surgery freelist [command] --help" for more information about a command.
`;

const USAGE_SURGERY_META = `meta page related surgery commands

Usage:
  bbolt surgery meta [command]

Available Commands:
  update      Update fields in meta pages
  validate    Validate both meta pages

Flags:
  -h, --help   help for meta

Use "bbolt surgery meta [command] --help" for more information about a command.
`;

/** Usage lines of the leaf surgery commands (cobra's "Usage:" + flags, shortened). */
const SURGERY_USAGES: Record<string, string> = {
  'revert-meta-page': 'bbolt surgery revert-meta-page <bbolt-file> --output DST [--in-place]',
  'copy-page': 'bbolt surgery copy-page <bbolt-file> --output DST --from-page N --to-page M [--in-place]',
  'clear-page': 'bbolt surgery clear-page <bbolt-file> --output DST --pageId N [--in-place]',
  'clear-page-elements': 'bbolt surgery clear-page-elements <bbolt-file> --output DST --pageId N --from-index I --to-index J [--in-place]',
  'freelist abandon': 'bbolt surgery freelist abandon <bbolt-file> --output DST [--in-place]',
  'freelist rebuild': 'bbolt surgery freelist rebuild <bbolt-file> --output DST [--in-place]',
  'meta validate': 'bbolt surgery meta validate <bbolt-file>',
  'meta update': 'bbolt surgery meta update <bbolt-file> --output DST --fields root:N,freelist:N,pgid:N[,pageSize:N,txid:N] [--meta-page 0|1] [--in-place]',
};

const SURGERY_ABANDON_WARNING = 'WARNING: The clearing has abandoned some pages that are not yet referenced from free list.\nPlease consider executing `./bbolt surgery freelist abandon ...`\n';

/**
 * `surgery ...` as bbolt 1.4.3's cobra commands (command_surgery*.go): the same flags, texts on
 * stdout, and errors as cobra prints them: `Error: <message>` on stderr, exit status 1 (cobra
 * then prints the command's usage; we print one usage line instead).
 */
function cmdSurgery(ctx: Ctx, args: string[]): void {
  const helpFor = (text: string): void => {
    ctx.out(text);
  };
  const sub = args[0];
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') return helpFor(USAGE_SURGERY);
  let name = sub;
  let rest = args.slice(1);
  if (sub === 'freelist' || sub === 'meta') {
    const sub2 = rest[0];
    if (sub2 === undefined || sub2 === '-h' || sub2 === '--help' || sub2 === 'help') return helpFor(sub === 'freelist' ? USAGE_SURGERY_FREELIST : USAGE_SURGERY_META);
    name = `${sub} ${sub2}`;
    rest = rest.slice(1);
  }
  const usage = SURGERY_USAGES[name];
  const fail = (message: string, withUsage: boolean): never => {
    ctx.err(`Error: ${message}\n`);
    if (withUsage && usage) ctx.err(`Usage:\n  ${usage}\n`);
    throw new CliError(message, { cause: 'json-reported', exitCode: 1 });
  };
  if (!usage) {
    const parent = name.includes(' ') ? `bbolt surgery ${sub}` : 'bbolt surgery';
    fail(`unknown command ${goQuoteString(name.split(' ').at(-1)!)} for ${goQuoteString(parent)}`, false);
  }
  if (rest.some((a) => a === '-h' || a === '--help')) {
    ctx.out(`Usage:\n  ${usage}\n`);
    return;
  }
  try {
    runSurgery(ctx, name, rest);
  } catch (e) {
    if (e instanceof CliError && e.cause === 'json-reported') throw e;
    if (e instanceof SurgeryFlagError) fail(e.message, true);
    if (e instanceof CliError) fail(e.message, true);
    if (e instanceof BoltError) fail(e.message, false);
    throw e;
  }
}

/** An argument or flag error of a surgery command (cobra prints the usage after it). */
class SurgeryFlagError extends CliError {}

function runSurgery(ctx: Ctx, name: string, args: string[]): void {
  const specs: Record<string, PFlagSpec> = { 'in-place': { kind: 'bool' } };
  const required: string[] = [];
  const hasOutput = name !== 'meta validate';
  if (hasOutput) {
    specs.output = { kind: 'string' };
    required.push('output');
  }
  if (name === 'copy-page') {
    specs['from-page'] = { kind: 'uint64' };
    specs['to-page'] = { kind: 'uint64' };
    required.push('from-page', 'to-page');
  } else if (name === 'clear-page' || name === 'clear-page-elements') {
    specs.pageId = { kind: 'uint64' };
    required.push('pageId');
    if (name === 'clear-page-elements') {
      specs['from-index'] = { kind: 'int' };
      specs['to-index'] = { kind: 'int' };
      required.push('from-index', 'to-index');
    }
  } else if (name === 'meta update') {
    specs.fields = { kind: 'stringSlice' };
    specs['meta-page'] = { kind: 'uint32' };
  }
  let f: PFlags;
  try {
    f = parsePFlags(args, specs);
  } catch (e) {
    if (e instanceof CliError) throw new SurgeryFlagError(e.message);
    throw e;
  }
  const inPlace = ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(pflagLast(f, 'in-place') ?? 'false');
  // --in-place (our extension) stands in for --output.
  if (f.args.length !== 1) throw new SurgeryFlagError(`accepts 1 arg(s), received ${f.args.length}`);
  const missing = required.filter((r) => !f.values.has(r) && !(r === 'output' && inPlace)).sort();
  if (missing.length > 0) throw new SurgeryFlagError(`required flag(s) ${missing.map((m) => `"${m}"`).join(', ')} not set`);
  const src = f.args[0]!;
  if (inPlace && f.values.has('output')) throw new SurgeryFlagError('--in-place and --output cannot be used together');
  const output = pflagLast(f, 'output') ?? '';
  if (hasOutput && !inPlace && output === '') throw new CliError("output database path wasn't given, specify output database file path with --output option");
  const num = (n: string): bigint => BigInt(pflagLast(f, n) ?? '0');
  const int = (n: string): number => parseGoInt(pflagLast(f, n) ?? '0') as number;
  const pgidOf = (n: string): number => {
    const v = num(n);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new CliError(`--${n} ${v}: page id out of range`);
    return Number(v);
  };

  // Option validation (before anything is read or copied, as Go's Validate).
  const tag = name === 'clear-page-elements' ? 'clear-page-element' : name;
  let fields = new Map<MetaUpdateField, bigint>();
  let metaPage: 0 | 1 = 0;
  if (name === 'copy-page' && num('from-page') === num('to-page')) throw new CliError(`'--from-page' and '--to-page' have the same value: ${num('from-page')}`);
  if ((name === 'clear-page' || name === 'clear-page-elements') && num('pageId') < 2n) throw new CliError(`the pageId must be at least 2, but got ${num('pageId')}`);
  if (name === 'meta update') {
    const mp = num('meta-page');
    if (mp > 1n) throw new CliError(`invalid meta page id: ${mp}`);
    metaPage = Number(mp) as 0 | 1;
    fields = parseMetaFields((f.values.get('fields') ?? []).flatMap((v) => (v === '' ? [] : v.split(','))));
  }

  // Go's checkSourceDBPath.
  let st: fs.Stats;
  try {
    st = fs.statSync(src);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(`source database file ${goQuoteString(src)} doesn't exist`);
    throw new CliError(`failed to open source database file ${goQuoteString(src)}: stat ${src}: ${goErrnoText(e)}`);
  }
  if (name === 'meta validate') {
    for (const v of validateMetaPages(src)) {
      if (v.error) ctx.out(`WARNING: The meta page ${v.page} isn't valid: ${v.error.message}!\n`);
      else ctx.out(`The meta page ${v.page} is valid!\n`);
    }
    return;
  }
  let rebuildDamaged = false;
  if (name === 'freelist rebuild') rebuildDamaged = checkFreelistRebuild(src).damaged;
  // copy-page reads the source's meta after the copy, for its warning.
  const dst = inPlace ? src : output;
  if (!inPlace) {
    const copyTag = name === 'freelist abandon' || name === 'freelist rebuild' || name === 'meta update' ? name : tag;
    try {
      copyFileForSurgery(src, dst);
    } catch (e) {
      if (e instanceof BoltError) throw new BoltError(`[${copyTag}] copy file failed: ${e.message}`, { cause: e });
      throw e;
    }
  }
  const wrap = <T>(prefix: string, fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof BoltError) throw new BoltError(`${prefix}: ${e.message}`, { cause: e });
      throw e;
    }
  };
  switch (name) {
    case 'revert-meta-page':
      wrap('revert-meta-page command failed', () => revertMetaPage(dst));
      ctx.out('The meta page is reverted.\n');
      return;
    case 'copy-page': {
      const from = pgidOf('from-page');
      const to = pgidOf('to-page');
      wrap('copy-page command failed', () => copyPage(dst, from, to));
      if (isFreelistPersisted(inPlace ? dst : src)) {
        ctx.out('WARNING: the free list might have changed.\n');
        ctx.out('Please consider executing `./bbolt surgery freelist abandon ...`\n');
      }
      ctx.out(`The page ${from} was successfully copied to page ${to}\n`);
      return;
    }
    case 'clear-page': {
      const id = pgidOf('pageId');
      if (wrap('clear-page command failed', () => clearPage(dst, id))) ctx.out(SURGERY_ABANDON_WARNING);
      ctx.out(`The page (${id}) was cleared\n`);
      return;
    }
    case 'clear-page-elements': {
      const id = pgidOf('pageId');
      const from = int('from-index');
      const to = int('to-index');
      if (wrap('clear-page-element command failed', () => clearPageElements(dst, id, from, to))) ctx.out(SURGERY_ABANDON_WARNING);
      ctx.out(`All elements in [${from}, ${to}) in page ${id} were cleared\n`);
      return;
    }
    case 'freelist abandon':
      wrap('abandom-freelist command failed', () => clearFreelist(dst));
      ctx.out('The freelist was abandoned in both meta pages.\nIt may cause some delay on next startup because bbolt needs to scan the whole db to reconstruct the free list.\n');
      return;
    case 'freelist rebuild':
      wrap('[freelist rebuild] open db file failed', () => rebuildFreelist(dst, st.mode & 0o777));
      if (rebuildDamaged) ctx.out('WARNING: the freelist page was damaged; it was abandoned in both meta pages before the rebuild.\n');
      ctx.out('The freelist was successfully rebuilt.\n');
      return;
    case 'meta update': {
      const r = updateMeta(dst, fields, metaPage);
      if (metaPage === 1 && r.pageSize0 !== r.meta.pageSize) {
        ctx.out(`WARNING: The page size (${r.pageSize0}) in the first meta page doesn't match the second meta page (${r.meta.pageSize})\n`);
      }
      ctx.out(r.changed ? `The meta page ${metaPage} has been updated!\n` : 'Nothing changed!\n');
      return;
    }
  }
}

/** `--fields k:v,...` with Go's validation texts. */
function parseMetaFields(items: string[]): Map<MetaUpdateField, bigint> {
  const out = new Map<MetaUpdateField, bigint>();
  for (const item of items) {
    const kv = item.split(':');
    if (kv.length !== 2) throw new CliError(`invalid key-value pair: ${item}`);
    const [k, v] = kv as [string, string];
    if (!(META_UPDATE_FIELDS as readonly string[]).includes(k)) throw new CliError(`field ${goQuoteString(k)} isn't allowed to be updated`);
    if (!/^[0-9]+$/.test(v) || BigInt(v) > 0xffffffffffffffffn) throw new CliError(`invalid value ${goQuoteString(v)} for field ${goQuoteString(k)}`);
    out.set(k as MetaUpdateField, BigInt(v));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Entry point

function run(ctx: Ctx, argv: string[]): void {
  const cmd = argv[0];
  ctx.raw = ctx.raw.slice(1);
  if (cmd === undefined || cmd.startsWith('-') || cmd === 'help') {
    ctx.err(USAGE_MAIN + '\n');
    throw new UsageError();
  }
  const args = argv.slice(1);
  switch (cmd) {
    case 'bench':
      return cmdBench(ctx, args);
    case 'buckets':
      return cmdBuckets(ctx, args);
    case 'check':
      return cmdCheck(ctx, args);
    case 'compact':
      return cmdCompact(ctx, args);
    case 'dump':
      return cmdDump(ctx, args);
    case 'page-item':
      return cmdPageItem(ctx, args);
    case 'get':
      return cmdGet(ctx, args);
    case 'info':
      return cmdInfo(ctx, args);
    case 'keys':
      return cmdKeys(ctx, args);
    case 'page':
      return cmdPage(ctx, args);
    case 'pages':
      return cmdPages(ctx, args);
    case 'stats':
      return cmdStats(ctx, args);
    case 'salvage':
      return cmdSalvage(ctx, args);
    case 'map':
      return cmdMap(ctx, args);
    case 'surgery':
      return cmdSurgery(ctx, args);
    default:
      throw new CliError(ERR_UNKNOWN_COMMAND);
  }
}

/** Commands whose errors are reported as {"error": ...} when --json is given. */
const JSON_COMMANDS = new Set(['info', 'check', 'buckets', 'keys', 'get', 'pages', 'stats']);

/**
 * Node decodes argv as UTF-8, replacing bytes that are not UTF-8 with U+FFFD. When main() is
 * given the process's own arguments, take their bytes from /proc/self/cmdline (Linux), so
 * binary bucket names and keys work from a shell as they do with Go.
 */
function argvBytes(argv: string[]): Uint8Array[] {
  const plain = argv.map((a) => Buffer.from(a, 'utf8'));
  if (!argv.some((a) => a.includes('\ufffd'))) return plain;
  try {
    const parts = fs.readFileSync('/proc/self/cmdline').toString('latin1').split('\0');
    if (parts[parts.length - 1] === '') parts.pop();
    const tail = parts.slice(parts.length - argv.length).map((s) => Buffer.from(s, 'latin1'));
    if (tail.length === argv.length && tail.every((b, i) => b.toString('utf8') === argv[i])) return tail;
  } catch {
    // no /proc: keep the decoded text
  }
  return plain;
}

/**
 * Runs the CLI; returns the exit status. Output goes to `io` (default: the process's streams).
 * An argument may be given as bytes (Uint8Array) for bucket names and keys that are not UTF-8.
 */
export async function main(argv: (string | Uint8Array)[], io?: Partial<CliIO>): Promise<number> {
  const out = new Output({ stdout: io?.stdout ?? process.stdout, stderr: io?.stderr ?? process.stderr });
  const texts = argv.map((a) => (typeof a === 'string' ? a : Buffer.from(a).toString('utf8')));
  const fromProcess = argv.every((a) => typeof a === 'string') && texts.length > 0 && texts.every((a, i) => process.argv[process.argv.length - texts.length + i] === a);
  const raw = fromProcess ? argvBytes(texts) : argv.map((a) => (typeof a === 'string' ? Buffer.from(a, 'utf8') : a));
  const ctx: Ctx = { out: out.out, err: out.err, raw };

  const jsonMode = JSON_COMMANDS.has(texts[0] ?? '') && texts.slice(1).some((a) => a === '--json' || a === '-json' || a === '--json=true' || a === '-json=true');
  const fail = (message: string, code: number): number => {
    if (jsonMode) writeJSON(ctx.out, { error: message });
    else ctx.out(message + '\n');
    return code;
  };
  try {
    run(ctx, texts);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) return 2;
    if (e instanceof CliError && e.cause === 'json-reported') return e.exitCode;
    if (e instanceof CliError) return fail(e.message, e.exitCode);
    if (e instanceof FlagError) return fail(e.message, 1);
    if (e instanceof BoltError) return fail(e.message, 1);
    if (e instanceof Error) return fail(`internal error: ${e.message.split('\n')[0]}`, 1);
    return fail(`internal error: ${String(e)}`, 1);
  } finally {
    out.flush();
  }
}

/** For the launcher (bin/tsbolt.js): a closed stdout ends the process as SIGPIPE ends the Go tool. */
export { endOnClosedStdout } from './format/pipe.js';
