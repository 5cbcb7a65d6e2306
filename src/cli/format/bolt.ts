// How the bbolt 1.3.7 CLI renders pages, keys and values. Pure functions over bytes: the
// callers read the file. A `Sink` receives output as it is produced, so a page that turns out
// to be broken halfway leaves the same partial output Go leaves before its error line.
//
// Raw page layout the renderers read (see src/bolt/page.ts for the full table):
//   0 u64 id | 8 u16 flags | 10 u16 count | 12 u32 overflow | 16.. elements
//   leaf element:   0 u32 flags, 4 u32 pos, 8 u32 ksize, 12 u32 vsize (pos from the element)
//   branch element: 0 u32 pos, 4 u32 ksize, 8 u64 pgid
//   meta (at 16):   0 magic, 4 version, 8 pageSize, 12 flags, 16 root, 24 seq, 32 freelist,
//                   40 pgid, 48 txid, 56 checksum

import { createHash } from 'node:crypto';
import { CliError } from './errors.js';
import { goQuote, hex, isPrintable } from './gostring.js';

export type Sink = (chunk: string | Uint8Array) => void;

/** The output formats of keys/get/page-item/page (bbolt's FORMAT_MODES). */
export const FORMAT_MODES = 'auto|ascii-encoded|hex|bytes|redacted';

const EMPTY_SHA256 = createHash('sha256').digest();

/**
 * bbolt's formatBytes. "redacted" reproduces 1.3.7 exactly: it prints sha256.New().Sum(b),
 * which is b followed by the hash of nothing, not the hash of b.
 */
export function formatBytes(b: Uint8Array, format: string): string | Uint8Array {
  switch (format) {
    case 'ascii-encoded':
      return goQuote(b);
    case 'hex':
      return hex(b);
    case 'bytes':
      return b;
    case 'auto':
      return bytesToAsciiOrHex(b);
    case 'redacted':
      return `<redacted len:${b.length} sha256:${hex(b)}${hex(EMPTY_SHA256)}>`;
    default:
      throw new CliError(`formatBytes: unsupported format: ${format}`);
  }
}

/** The bytes themselves when they are printable UTF-8, else their hex. */
export function bytesToAsciiOrHex(b: Uint8Array): string | Uint8Array {
  return isPrintable(b) ? b : hex(b);
}

/** A key on a `page` listing: Go-quoted when printable, else hex. */
export function pageKey(b: Uint8Array): string {
  return isPrintable(b) ? goQuote(b) : hex(b);
}

// ---- little-endian readers that fail with a CliError instead of reading past the buffer ----

function need(buf: Uint8Array, off: number, n: number, what: string): void {
  if (off < 0 || off + n > buf.length) throw new CliError(`${what} lies outside the page (offset ${off}, page buffer ${buf.length} bytes)`);
}
export function rd16(buf: Uint8Array, off: number): number {
  need(buf, off, 2, 'field');
  return buf[off]! | (buf[off + 1]! << 8);
}
export function rd32(buf: Uint8Array, off: number): number {
  need(buf, off, 4, 'field');
  return (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24)) >>> 0;
}
export function rd64(buf: Uint8Array, off: number): bigint {
  need(buf, off, 8, 'field');
  return (BigInt(rd32(buf, off + 4)) << 32n) | BigInt(rd32(buf, off));
}

/** Page header fields as guts_cli reads them. */
export interface RawPageHeader {
  id: bigint;
  flags: number;
  count: number;
  overflow: number;
}
export function readHeader(buf: Uint8Array): RawPageHeader {
  if (buf.length === 0) throw new CliError('runtime error: index out of range [0] with length 0');
  return { id: rd64(buf, 0), flags: rd16(buf, 8), count: rd16(buf, 10), overflow: rd32(buf, 12) };
}

/** guts_cli's Page.Type(). */
export function pageType(flags: number): string {
  if (flags & 0x01) return 'branch';
  if (flags & 0x02) return 'leaf';
  if (flags & 0x04) return 'meta';
  if (flags & 0x10) return 'freelist';
  return `unknown<${flags.toString(16).padStart(2, '0')}>`;
}

/** A leaf element's key and value, bounds-checked against the page buffer. */
export function leafElement(buf: Uint8Array, i: number): { flags: number; key: Uint8Array; value: Uint8Array; valueOff: number } {
  const e = 16 + i * 16;
  need(buf, e, 16, `leaf element ${i}`);
  const flags = rd32(buf, e);
  const kstart = e + rd32(buf, e + 4);
  const ksize = rd32(buf, e + 8);
  const vsize = rd32(buf, e + 12);
  need(buf, kstart, ksize, `key of leaf element ${i}`);
  need(buf, kstart + ksize, vsize, `value of leaf element ${i}`);
  return { flags, key: buf.subarray(kstart, kstart + ksize), value: buf.subarray(kstart + ksize, kstart + ksize + vsize), valueOff: kstart + ksize };
}

export function branchElement(buf: Uint8Array, i: number): { key: Uint8Array; pgid: bigint } {
  const e = 16 + i * 16;
  need(buf, e, 16, `branch element ${i}`);
  const kstart = e + rd32(buf, e);
  const ksize = rd32(buf, e + 4);
  need(buf, kstart, ksize, `key of branch element ${i}`);
  return { key: buf.subarray(kstart, kstart + ksize), pgid: rd64(buf, e + 8) };
}

/** guts_cli's Meta.Print. */
export function printMeta(w: Sink, buf: Uint8Array): void {
  const m = 16;
  need(buf, m, 64, 'meta');
  w(`Version:    ${rd32(buf, m + 4)}\n`);
  w(`Page Size:  ${rd32(buf, m + 8)} bytes\n`);
  w(`Flags:      ${rd32(buf, m + 12).toString(16).padStart(8, '0')}\n`);
  w(`Root:       <pgid=${rd64(buf, m + 16)}>\n`);
  w(`Freelist:   <pgid=${rd64(buf, m + 32)}>\n`);
  w(`HWM:        <pgid=${rd64(buf, m + 40)}>\n`);
  w(`Txn ID:     ${rd64(buf, m + 48)}\n`);
  w(`Checksum:   ${rd64(buf, m + 56).toString(16).padStart(16, '0')}\n`);
  w('\n');
}

/** A bucket header as guts_cli's Bucket.String(); reads 16 bytes from `off` like Go's cast. */
export function bucketString(buf: Uint8Array, off: number): string {
  return `<pgid=${rd64(buf, off)},seq=${rd64(buf, off + 8)}>`;
}

/** The `page` command's leaf listing. */
export function printLeaf(w: Sink, buf: Uint8Array, formatValue: string): void {
  const count = rd16(buf, 10);
  w(`Item Count: ${count}\n`);
  w('\n');
  for (let i = 0; i < count; i++) {
    const e = leafElement(buf, i);
    const k = pageKey(e.key);
    const v = e.flags & 0x01 ? bucketString(buf, e.valueOff) : formatBytes(e.value, formatValue);
    w(k);
    w(': ');
    w(v);
    w('\n');
  }
  w('\n');
}

/** The `page` command's branch listing. */
export function printBranch(w: Sink, buf: Uint8Array): void {
  const count = rd16(buf, 10);
  w(`Item Count: ${count}\n`);
  w('\n');
  for (let i = 0; i < count; i++) {
    const e = branchElement(buf, i);
    w(`${pageKey(e.key)}: <pgid=${e.pgid}>\n`);
  }
  w('\n');
}

/**
 * The `page` command's freelist listing. With the 0xFFFF count escape, 1.3.7 prints the real
 * count but lists ids [1, count) of the u64 array, leaving out the last id; so do we.
 */
export function printFreelist(w: Sink, buf: Uint8Array): void {
  const rawCount = rd16(buf, 10);
  let count: number;
  let start = 0;
  if (rawCount === 0xffff) {
    const c = rd64(buf, 16);
    if (c > BigInt(Math.floor((buf.length - 16) / 8))) throw new CliError(`freelist count ${c} runs past the end of the page`);
    count = Number(c);
    start = 1;
  } else count = rawCount;
  if (16 + count * 8 > buf.length) throw new CliError(`freelist count ${count} runs past the end of the page`);
  w(`Item Count: ${count}\n`);
  w(`Overflow: ${rd32(buf, 12)}\n`);
  w('\n');
  let out = '';
  for (let i = start; i < count; i++) out += `${rd64(buf, 16 + i * 8)}\n`;
  w(out);
  w('\n');
}

/**
 * bbolt's hexdump of one page: 16 bytes a line in 2-byte groups, a run of lines equal to the
 * previous one collapsed into "*" (the last line always printed), then an empty line.
 */
export function hexdumpPage(w: Sink, buf: Uint8Array, addr: bigint): void {
  const pageSize = buf.length;
  if (pageSize % 16 !== 0) throw new CliError(`page size ${pageSize} is not a multiple of 16 bytes`);
  const lines: string[] = [];
  let prev: Uint8Array | undefined;
  let skipped = false;
  for (let off = 0; off < pageSize; off += 16) {
    const line = buf.subarray(off, off + 16);
    const isLast = off === pageSize - 16;
    const a = (addr + BigInt(off)) & 0xffffffffffffffffn;
    if (prev !== undefined && !isLast && Buffer.compare(line, prev) === 0) {
      if (!skipped) {
        lines.push(`${a.toString(16).padStart(7, '0')} *\n`);
        skipped = true;
      }
    } else {
      const h = hex(line);
      lines.push(`${a.toString(16).padStart(7, '0')} ${h.slice(0, 4)} ${h.slice(4, 8)} ${h.slice(8, 12)} ${h.slice(12, 16)} ${h.slice(16, 20)} ${h.slice(20, 24)} ${h.slice(24, 28)} ${h.slice(28, 32)}\n`);
      skipped = false;
    }
    prev = line;
  }
  lines.push('\n');
  w(lines.join(''));
}

/** Go's int(float32(a) * 100.0 / float32(b)) as the stats command computes percentages. */
export function percent32(a: number, b: number): number {
  if (b === 0) return 0;
  const f = Math.fround;
  return Math.trunc(f(f(f(a) * 100) / f(b)));
}
