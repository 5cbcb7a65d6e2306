// tsctr repair commands on a stopped containerd root: `namespaces create|label|rm`, `images rm|label`,
// `content rm|label`, `leases rm`, printing what ctr 1.6 prints (recorded from real ctr against
// containerd 1.6: see test/cli/ctr-repair.test.ts). meta.db is opened read-write with a short lock
// timeout, so the command refuses before writing anything while containerd runs; each command is
// one bolt transaction (src/metadata/repair.ts).
import { join } from 'node:path';
import { parseDigest, InvalidDigestError, openContentStore, ContentNotFoundError } from '../../content/index.js';
import { ErrNotFound } from '../../metadata/index.js';
import { createNamespace, deleteNamespace, setNamespaceLabel } from '../../metadata/namespace-store.js';
import { deleteImage, updateImage } from '../../metadata/image-store.js';
import { deleteBlobRecord, updateContentLabels } from '../../metadata/content-store.js';
import { deleteLease } from '../../metadata/lease-store.js';
import { eachInItsOwnTx, parseLabelArgs } from '../../metadata/repair.js';
import { liveRefs } from '../../metadata/gc-cleanup.js';
import { systemClock } from '../../metadata/boltutil.js';
import { logrusLine } from '../format/logrus.js';
import { CtrCommandError } from '../format/errors.js';
import { CONTENT_DIR, withRootWrite, withRootWriteAsync } from './root.js';
import { takeBoolFlags } from './flags.js';
import { CTR_LEAVES } from './ctr-help.js';

export interface RepairIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

export { CtrCommandError };

function msg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** go-digest's sentinel error text for a refused digest (what ctr prints; ours adds the input). */
function goDigestError(e: unknown): string {
  if (!(e instanceof InvalidDigestError)) return msg(e);
  if (e.reason === 'length') return 'invalid checksum digest length';
  if (e.reason === 'unsupported') return 'unsupported digest algorithm';
  return 'invalid checksum digest format';
}

function sortedLabels(labels: Record<string, string> | undefined): string {
  // ctr ranges over a Go map (random order); we print the pairs sorted.
  return Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join(',');
}

export function namespacesCreate(root: string, args: string[]): void {
  const [name, ...rest] = args;
  if (!name) throw new CtrCommandError('please specify a namespace');
  withRootWrite(root, (m) => m.update((tx) => createNamespace(tx, name, parseLabelArgs(rest))));
}

export function namespacesLabel(root: string, args: string[]): void {
  const [name, ...rest] = args;
  if (!name) throw new CtrCommandError('please specify a namespace');
  const labels = parseLabelArgs(rest);
  if (Object.keys(labels).length === 0) return; // ctr calls nothing
  withRootWrite(root, (m) => m.update((tx) => {
    for (const [k, v] of Object.entries(labels)) setNamespaceLabel(tx, name, k, v);
  }));
}

/** ctr namespaces rm: a missing namespace is printed as removed; others log and the first error is returned. */
export function namespacesRm(root: string, args: string[], io: RepairIO): void {
  if (args.length === 0) return;
  const res = withRootWrite(root, (m) => eachInItsOwnTx(m, args, (tx, n) => deleteNamespace(tx, n)));
  let first: string | undefined;
  for (const r of res) {
    if (r.error === undefined || r.error instanceof ErrNotFound) {
      io.stdout.write(r.item + '\n');
      continue;
    }
    io.stderr.write(logrusLine('error', `unable to delete ${r.item}`, msg(r.error)));
    first ??= `unable to delete ${r.item}: ${msg(r.error)}`;
  }
  if (first !== undefined) throw new CtrCommandError(first);
}

/** ctr images rm: a missing image is a warning (exit 0). Returns how many were removed. */
export function imagesRm(root: string, namespace: string, args: string[], io: RepairIO): number {
  if (args.length === 0) return 0;
  const res = withRootWrite(root, (m) => eachInItsOwnTx(m, args, (tx, n) => deleteImage(tx, namespace, n)));
  let removed = 0;
  for (const r of res) {
    if (r.error === undefined) io.stdout.write(r.item + '\n'), removed++;
    else if (r.error instanceof ErrNotFound) io.stderr.write(logrusLine('warning', `${r.item}: image not found`));
    else throw r.error;
  }
  return removed;
}

/** ctr images label [--replace-all] NAME [KEY=VALUE...]: prints the image's labels after the update. */
export function imagesLabel(root: string, namespace: string, args: string[], replaceAll: boolean, io: RepairIO): void {
  const [name = '', ...rest] = args;
  const labels = parseLabelArgs(rest);
  const paths = replaceAll ? ['labels'] : Object.keys(labels).map((k) => `labels.${k}`);
  const img = withRootWrite(root, (m) =>
    m.update((tx) => updateImage(tx, namespace, { name, labels, target: { mediaType: '', digest: '', size: 0 } }, paths, systemClock)),
  );
  io.stdout.write(sortedLabels(img.labels) + '\n');
}

/**
 * ctr content rm: a missing record is skipped silently; a bad digest is logged and returned.
 * containerd deletes the record, and its GC (scheduled at once, content marked dirty) then deletes
 * the file when no namespace holds the digest any more. Offline nothing would schedule that GC
 * (containerd 1.6 sweeps the content directory only after a GC that removed a content record), so
 * after the records' transaction commits we delete the files no namespace references; an interruption
 * between the two leaves an orphan file, which containerd ignores and its next content sweep removes.
 */
export async function contentRm(root: string, namespace: string, args: string[], io: RepairIO): Promise<void> {
  const valid: string[] = [];
  let first: unknown;
  const bad = new Map<string, string>();
  for (const a of args) {
    try {
      parseDigest(a);
      valid.push(a);
    } catch (e) {
      bad.set(a, goDigestError(e));
      first ??= goDigestError(e);
    }
  }
  const res = await withRootWriteAsync(root, async (m) => {
    const results = eachInItsOwnTx(m, valid, (tx, d) => deleteBlobRecord(tx, namespace, d));
    const removed = results.filter((r) => r.error === undefined).map((r) => r.item);
    if (removed.length > 0) {
      // The records are gone (committed), so the command has done what ctr's does; the files are
      // containerd's GC's part: a failure there is a warning and the file waits for the next sweep.
      try {
        // Which digests a namespace still holds, by the records' keys (as containerd's content
        // sweep reads them), not by decoding them: a damaged record elsewhere must not stop this.
        const held = m.view((tx) => liveRefs(tx).content);
        const store = await openContentStore(join(root, CONTENT_DIR));
        for (const d of removed) {
          if (held.has(d)) continue;
          try {
            await store.delete(d);
          } catch (e) {
            if (!(e instanceof ContentNotFoundError)) throw e;
          }
        }
      } catch (e) {
        io.stderr.write(logrusLine('warning', 'content cleanup failed; the next garbage collection removes what is left', msg(e)));
      }
    }
    return results;
  });
  const byItem = new Map(res.map((r) => [r.item, r]));
  for (const a of args) {
    if (bad.has(a)) {
      io.stderr.write(logrusLine('error', `could not delete ${a}`, bad.get(a)));
      continue;
    }
    const r = byItem.get(a);
    if (!r) continue;
    if (r.error === undefined) io.stdout.write(a + '\n');
    else if (!(r.error instanceof ErrNotFound)) {
      io.stderr.write(logrusLine('error', `could not delete ${a}`, msg(r.error)));
      first ??= r.error;
    }
  }
  if (first !== undefined) throw new CtrCommandError(msg(first));
}

/** ctr content label DIGEST [KEY=VALUE...]: prints the blob's labels after the update. */
export function contentLabel(root: string, namespace: string, args: string[], io: RepairIO): void {
  const [dgst = '', ...rest] = args;
  try {
    parseDigest(dgst);
  } catch (e) {
    throw new CtrCommandError(goDigestError(e));
  }
  const labels = parseLabelArgs(rest);
  const paths = Object.keys(labels).map((k) => `labels.${k}`);
  const info = withRootWrite(root, (m) =>
    paths.length === 0
      ? (() => {
          const c = m.content(namespace).find((x) => x.digest === dgst);
          if (!c) throw new ErrNotFound(`content digest ${dgst}: not found`);
          return c;
        })()
      : m.update((tx) => updateContentLabels(tx, namespace, dgst, labels, paths, {}, systemClock)),
  );
  io.stdout.write(sortedLabels(info.labels) + '\n');
}

/**
 * ctr leases rm: stops at the first failure (those before it are removed and printed). `removed` is called once
 * when any was removed, before a failure is thrown (what --sync waits for).
 */
export function leasesRm(root: string, namespace: string, args: string[], io: RepairIO, removed?: () => void): void {
  if (args.length === 0) {
    io.stdout.write(CTR_LEAVES['leases delete']!.help); // ctr shows the command's help
    return;
  }
  const res = withRootWrite(root, (m) => eachInItsOwnTx(m, args, (tx, id) => deleteLease(tx, namespace, id), true));
  const failed = res.find((r) => r.error !== undefined);
  const done = res.filter((r) => r.error === undefined);
  for (const r of done) io.stdout.write(r.item + '\n');
  if (done.length > 0) removed?.();
  if (failed) throw failed.error;
}

const RM = new Set(['rm', 'remove', 'delete', 'del']);

/**
 * The repair commands by ctr's names; undefined when `topic sub` is not one of them.
 * `--sync` (images rm, leases rm): `collect` (containerd's collection, which ctr waits for) runs after a removal.
 */
export function runRepair(
  root: string,
  namespace: string,
  topic: string,
  sub: string | undefined,
  rest: string[],
  io: RepairIO,
  collect: () => void = () => undefined,
): number | Promise<number> | undefined {
  const t = ({ namespace: 'namespaces', ns: 'namespaces', image: 'images', i: 'images', lease: 'leases' } as Record<string, string>)[topic] ?? topic;
  if (sub === undefined) return undefined;
  if (t === 'namespaces' && sub === 'create') namespacesCreate(root, takeBoolFlags(rest, []).args);
  else if (t === 'namespaces' && (sub === 'label' || sub === 'labels')) namespacesLabel(root, takeBoolFlags(rest, []).args);
  else if (t === 'namespaces' && RM.has(sub)) namespacesRm(root, takeBoolFlags(rest, []).args, io);
  else if (t === 'images' && RM.has(sub)) {
    const f = takeBoolFlags(rest, ['sync']);
    if (imagesRm(root, namespace, f.args, io) > 0 && f.flags.has('sync')) collect();
  }
  else if (t === 'images' && sub === 'label') {
    const f = takeBoolFlags(rest, ['replace-all', 'r']);
    imagesLabel(root, namespace, f.args, f.flags.has('replace-all') || f.flags.has('r'), io);
  } else if (t === 'content' && RM.has(sub)) return contentRm(root, namespace, takeBoolFlags(rest, []).args, io).then(() => 0);
  else if (t === 'content' && sub === 'label') contentLabel(root, namespace, takeBoolFlags(rest, []).args, io);
  else if (t === 'leases' && RM.has(sub)) {
    const f = takeBoolFlags(rest, ['sync']);
    leasesRm(root, namespace, f.args, io, f.flags.has('sync') ? collect : undefined);
  }
  else return undefined;
  return 0;
}
