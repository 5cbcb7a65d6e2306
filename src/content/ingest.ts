// The ingest directory of one ref, as containerd's local store lays it out:
//
//   ingest/<sha256 hex of the ref>/
//     ref         the ref, as text (the directory name is a hash, so this is how a listing finds it)
//     data        the bytes written so far; its size is the writer's offset
//     startedat   RFC3339Nano text (Go time.MarshalText), when the ingest began
//     updatedat   RFC3339Nano text, rewritten on close (the data file's mtime may be newer)
//     total       decimal text, the expected size, only when known (> 0)
//
// Small files are written as containerd's writeToCompletion does: `<name>.tmp` opened O_SYNC,
// then renamed over the name.

import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { ContentCorruptError, ContentNotFoundError, ContentUnsafePathError, InvalidRefError } from './errors.js';

/** Longest ref accepted, in UTF-8 bytes. containerd sets none; refs name files only through their hash. */
export const MAX_REF_LENGTH = 4096;

/** The status of an ingest (containerd's content.Status). */
export interface Status {
  ref: string;
  /** Bytes written so far (the size of `data`). */
  offset: number;
  /** The expected size, 0 when unknown. */
  total: number;
  startedAt: Date;
  updatedAt: Date;
  /** The expected digest, when the writer was opened with one (in memory only; containerd does not store it). */
  expected?: string;
}

/** Refuses refs containerd could not use or that would make a bad file: empty, NUL, lone surrogates, too long. */
export function validateRef(ref: unknown): string {
  if (typeof ref !== 'string') throw new InvalidRefError(String(ref), `expected a string, got ${typeof ref}`);
  if (ref.length === 0) throw new InvalidRefError(ref, 'ref must not be empty');
  if (ref.length > MAX_REF_LENGTH) throw new InvalidRefError(ref, `longer than ${MAX_REF_LENGTH} bytes`);
  if (ref.includes('\0')) throw new InvalidRefError(ref, 'contains NUL');
  const bytes = Buffer.from(ref, 'utf8');
  if (bytes.length > MAX_REF_LENGTH) throw new InvalidRefError(ref, `longer than ${MAX_REF_LENGTH} bytes`);
  if (bytes.toString('utf8') !== ref) throw new InvalidRefError(ref, 'not well-formed Unicode (lone surrogate)');
  return ref;
}

/** The ingest directory name: the sha256 hex of the ref (go-digest FromString(ref).Encoded()). */
export function ingestKey(ref: string): string {
  return createHash('sha256').update(ref, 'utf8').digest('hex');
}

/** Go's RFC3339Nano: fraction without trailing zeros, omitted when zero; we write UTC ("Z"). */
export function formatTimestamp(d: Date): string {
  const iso = d.toISOString(); // 2006-01-02T15:04:05.000Z
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Parses RFC3339 / RFC3339Nano text (any zone); the fraction is kept to the millisecond. */
export function parseTimestamp(text: string, source = 'timestamp'): Date {
  const m = RFC3339_RE.exec(text.trim());
  if (!m) throw new ContentCorruptError(source, `could not parse timestamp ${JSON.stringify(text.slice(0, 80))}`);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = Number(((frac ?? '') + '000').slice(0, 3));
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    t -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  }
  return new Date(t);
}

/** Writes `<file>.tmp` with O_SYNC and renames it over `file` (containerd's writeToCompletion). */
export function writeToCompletion(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_SYNC | fs.constants.O_NOFOLLOW, 0o666);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

function notFound(e: unknown, what: string, ref?: string): unknown {
  if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
    return new ContentNotFoundError(`${what}: not found`, { ...(ref !== undefined ? { ref } : {}), cause: e });
  }
  return e;
}

function readSmall(file: string, limit: number): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(limit + 1);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    if (n > limit) throw new ContentCorruptError(file, `longer than ${limit} bytes`);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads an ingest directory's `ref` file. */
export function readIngestRef(dir: string): string {
  try {
    return readSmall(path.join(dir, 'ref'), MAX_REF_LENGTH * 4);
  } catch (e) {
    throw notFound(e, `ingest ${dir} ref`);
  }
}

/** The expected size from `total`; 0 when absent or unreadable (as containerd). */
export function readTotal(dir: string): number {
  try {
    const s = readSmall(path.join(dir, 'total'), 32);
    if (!/^\d+$/.test(s)) return 0;
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : 0;
  } catch {
    return 0;
  }
}

/**
 * Reads the status of an ingest directory as containerd's store.status: the offset is the size
 * of `data`, updatedAt the later of `updatedat` and data's mtime. Throws ContentNotFoundError
 * when data or ref is missing; other errors (a bad timestamp) as they come.
 */
export function readStatus(dir: string): Status {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path.join(dir, 'data'));
  } catch (e) {
    throw notFound(e, `ingest ${dir} data`);
  }
  if (!st.isFile()) throw new ContentUnsafePathError(path.join(dir, 'data'), 'not a regular file');
  const ref = readIngestRef(dir);
  let startedAt: Date;
  let updatedAt: Date;
  try {
    startedAt = parseTimestamp(readSmall(path.join(dir, 'startedat'), 64), path.join(dir, 'startedat'));
    updatedAt = parseTimestamp(readSmall(path.join(dir, 'updatedat'), 64), path.join(dir, 'updatedat'));
  } catch (e) {
    throw notFound(e, `ingest ${dir} timestamps`, ref);
  }
  if (st.mtime > updatedAt) updatedAt = st.mtime;
  return { ref, offset: st.size, total: readTotal(dir), startedAt, updatedAt };
}
