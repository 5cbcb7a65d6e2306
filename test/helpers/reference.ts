// The Go reference program (test/reference/ref.go, bbolt 1.3.6 from Debian's
// golang-github-coreos-bbolt-dev), built on first use into test/reference/bin (gitignored).
import { spawnSync } from 'node:child_process';
import { buildGoProgram } from './gobuild.js';


export type { Workload, WorkloadOp, WorkloadTx } from './workload.js';

/** Output of `ref apply`: per transaction, per op, null or bbolt's error text; the last committed txid. */
export interface ApplyResult {
  results: (string | null)[][];
  txid: number;
}

/** One entry of a dumped bucket, in key order: a key/value pair or a nested bucket. Bytes are hex. */
export type DumpItem = { k: string; v: string } | { k: string; seq: string; bucket: DumpItem[] };

/** Output of `ref dump` (u64 fields as decimal strings). */
export interface Dump {
  pageSize: number;
  /** The txid of the meta the reader uses. */
  txid: number;
  /** From that meta: root bucket page, root bucket sequence, freelist page ("18446744073709551615" = NoFreelistSync), high-water mark. */
  rootPgid: string;
  rootSeq: string;
  freelistPgid: string;
  hwm: string;
  /** tx.Size(): hwm * pageSize. */
  size: number;
  /** Every finding of tx.Check(), in the order Go reports them. */
  check: string[];
  /** Top-level buckets (each with its sequence), in key order. */
  buckets: DumpItem[];
}

/** Output of `ref pages`: every page from 0 to the high-water mark, skipping overflow pages. */
export interface PagesResult {
  pages: { id: number; type: 'meta' | 'freelist' | 'branch' | 'leaf' | 'free' | string; count: number; overflow: number }[];
}

/** Lowercase hex of bytes, or of a string's UTF-8 bytes. */
export function hex(x: Uint8Array | string): string {
  return (typeof x === 'string' ? Buffer.from(x, 'utf8') : Buffer.from(x.buffer, x.byteOffset, x.byteLength)).toString('hex');
}

/** Builds the reference program when it is missing or older than its source; returns its path. */
export function buildReference(): string {
  return buildGoProgram({
    source: 'ref.go',
    name: 'ref',
    needs: { dir: 'go.etcd.io/bbolt', what: 'Go bbolt 1.3.6 source' },
    apt: 'apt-get install -y golang-go golang-github-coreos-bbolt-dev golang-golang-x-sys-dev',
  });
}

/**
 * Runs the reference program with stdin (an object is sent as JSON) and returns its parsed JSON;
 * throws when it exits non-zero (its {"error": ...} text in the message).
 *   apply DB [--page-size N] [--initial-mmap-size N] [--no-freelist-sync] [--no-sync]  (stdin: Workload) -> ApplyResult
 *   dump DB -> Dump;  check DB -> {check: string[]};  pages DB -> PagesResult;  stats DB -> {stats: {[hexName]: Go BucketStats}}
 *   hold DB MS -> {locked: true} (then sleeps; spawn it instead);  tryopen DB MS [--read-only] -> {opened: true} | {error: 'timeout'}
 *   compact SRC DST TXMAXSIZE [--page-size N] -> {compacted: true} (bbolt.Compact)
 */
export function runReference(args: string[], stdin?: string | object): any {
  const input = stdin === undefined ? '' : typeof stdin === 'string' ? stdin : JSON.stringify(stdin);
  const r = spawnSync(buildReference(), args, { input, maxBuffer: 1 << 30 });
  const out = r.stdout.toString();
  let parsed: any;
  try {
    parsed = JSON.parse(out);
  } catch {
    throw new Error(`reference ${args.join(' ')} printed no JSON (exit ${r.status}): ${out.slice(0, 300)} ${r.stderr.toString().slice(0, 500)}`);
  }
  if (r.status !== 0) throw new Error(`reference ${args.join(' ')}: ${parsed.error ?? out}`);
  return parsed;
}
