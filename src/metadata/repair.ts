// Offline repair of a stopped containerd root: ctr's delete and label commands over several
// arguments, applied in ONE bolt write transaction per command.
//
// ctr sends one request per argument and containerd commits each on its own; offline we keep
// ctr's per-argument outcomes (what it prints, which argument fails, where it stops) but commit
// them together: the transaction commits the arguments that succeeded and nothing else, so a
// crash leaves either all of them applied or none. Each store function validates before it
// writes, so a failing argument leaves no partial change behind.
//
// Removing records is all containerd does synchronously too: blobs, snapshots and the children of
// a deleted lease are left to its garbage collector, which runs on the next start.

import type { Tx } from '../bolt/index.js';
import type { MetadataDB } from './db.js';

export interface ItemOutcome<T> {
  item: string;
  value?: T;
  error?: unknown;
}

/**
 * Runs fn for each item in a write transaction of its own, as containerd runs each Delete of a
 * ctr command line: an item that throws is rolled back alone (nothing of it is written, and a
 * command whose every item fails leaves the file as it was), recorded, and, when `stopOnError`,
 * ends the loop (as ctr's `return err`); the items before it stay committed.
 */
export function eachInItsOwnTx<T>(m: MetadataDB, items: string[], fn: (tx: Tx, item: string) => T, stopOnError = false): ItemOutcome<T>[] {
  const out: ItemOutcome<T>[] = [];
  for (const item of items) {
    try {
      out.push({ item, value: m.update((tx) => fn(tx, item)) });
    } catch (error) {
      out.push({ item, error });
      if (stopOnError) break;
    }
  }
  return out;
}

/** ctr's commands.LabelArgs: "k=v" -> {k: v}; "k" (no '=') -> {k: ""}. Later keys win. */
export function parseLabelArgs(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const i = a.indexOf('=');
    if (i < 0) out[a] = '';
    else out[a.slice(0, i)] = a.slice(i + 1);
  }
  return out;
}
