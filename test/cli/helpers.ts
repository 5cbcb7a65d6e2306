// Helpers for the tsbolt CLI tests: recorded bbolt outputs and an in-process runner.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { main } from '../../src/cli/tsbolt.js';

/** One recorded run of the Go bbolt CLI (see ../shared/corpus/README.md). */
export interface Recording {
  /** Arguments; "FILE" stands for the database file. Bytes that are not UTF-8 stay bytes. */
  argv: (string | Buffer)[];
  /** stdout + stderr, with the file's path replaced by "FILE". */
  out: Buffer;
  code: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** An argument as text when it is UTF-8, else as its bytes. */
function asArg(b: Buffer): string | Buffer {
  try {
    return utf8.decode(b);
  } catch {
    return b;
  }
}

/** Reads expected/NAME.json files: [{argv: [hex...| "FILE"], out: base64, code}]. */
export function loadRecordings(file: string): Recording[] {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { argv: string[]; out: string; code: number }[];
  return raw.map((r) => ({
    argv: r.argv.map((a) => (a === 'FILE' ? 'FILE' : asArg(Buffer.from(a, 'hex')))),
    out: Buffer.from(r.out, 'base64'),
    code: r.code,
  }));
}

/** Pairs of (database file, recordings) in a corpus directory with an expected/ folder. */
export function corpusCases(dir: string): { name: string; db: string; recordings: Recording[] }[] {
  const exp = path.join(dir, 'expected');
  if (!fs.existsSync(exp)) return [];
  return fs
    .readdirSync(exp)
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => {
      const name = n.slice(0, -'.json'.length);
      return { name, db: path.join(dir, `${name}.db`), recordings: loadRecordings(path.join(exp, n)) };
    })
    .filter((c) => fs.existsSync(c.db));
}

/** Runs main() in process; stdout and stderr are collected in write order (as 2>&1). */
export async function runMain(argv: (string | Uint8Array)[]): Promise<{ out: Buffer; stdout: Buffer; stderr: Buffer; code: number }> {
  const all: Buffer[] = [];
  const so: Buffer[] = [];
  const se: Buffer[] = [];
  const writer = (mine: Buffer[]) => ({
    write(c: string | Uint8Array) {
      const b = typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c);
      all.push(b);
      mine.push(b);
      return true;
    },
  });
  const code = await main(argv, { stdout: writer(so), stderr: writer(se) });
  return { out: Buffer.concat(all), stdout: Buffer.concat(so), stderr: Buffer.concat(se), code };
}

/** Replaces every occurrence of `needle` in `buf` by `rep` (the recordings show the path as FILE). */
export function replaceAll(buf: Buffer, needle: string, rep: string): Buffer {
  const n = Buffer.from(needle);
  const parts: Buffer[] = [];
  let i = 0;
  for (;;) {
    const j = buf.indexOf(n, i);
    if (j < 0) break;
    parts.push(buf.subarray(i, j), Buffer.from(rep));
    i = j + n.length;
  }
  parts.push(buf.subarray(i));
  return Buffer.concat(parts);
}

/** sha256 and mtime of a file, to prove a command did not change it. */
export function fingerprint(file: string): { sha256: string; mtimeMs: number; size: number } {
  const st = fs.statSync(file);
  return { sha256: createHash('sha256').update(fs.readFileSync(file)).digest('hex'), mtimeMs: st.mtimeMs, size: st.size };
}

/** A readable diff position for a failed byte comparison. */
export function firstDifference(a: Buffer, b: Buffer): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const ctx = (x: Buffer) => JSON.stringify(x.subarray(Math.max(0, i - 60), i + 60).toString('latin1'));
  return `first difference at byte ${i} (got ${a.length} bytes, want ${b.length})\n got: ${ctx(a)}\nwant: ${ctx(b)}`;
}
