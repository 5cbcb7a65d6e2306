// tsctr snapshots [--snapshotter S] which PATH|ID|KEY (not a ctr command): which snapshot, containers and
// images own a snapshot directory, or, given a namespaced snapshot key, where its directory is.
//
//   PATH  any path inside <root>/io.containerd.snapshotter.v1.<sn>/snapshots/<id>/ (the snapshotter comes from the path)
//   ID    the number of a directory snapshots/<id> of --snapshotter
//   KEY   anything else: a snapshot key of the namespace (-n); prints the directory alone
import { resolve } from 'node:path';
import type { MetadataDB } from '../../metadata/index.js';
import { parseSnapshotPath, snapshotKeyDir, whichSnapshotId, type SnapshotWhich } from '../../metadata/which.js';
import { CliError } from '../format/errors.js';

export interface WhichIO {
  stdout: { write(s: string): unknown };
}

/** Where `which` failed: printed as "ctr: <message>", exit status 1. */
export class WhichError extends CliError {
  static override readonly code = 'ERR_CTR_WHICH';
}

function formatWhich(w: SnapshotWhich): string {
  const rows: [string, string][] = [
    ['directory', w.dir],
    ['snapshotter', w.snapshotter],
    ['id', String(w.id)],
  ];
  if (!w.backend) {
    rows.push(['backend', `- (no snapshot with id ${w.id} in io.containerd.snapshotter.v1.${w.snapshotter}/metadata.db)`]);
  } else {
    rows.push(['backend', w.backend.name], ['kind', w.backend.kind]);
    if (w.backend.parent) rows.push(['parent', w.backend.parent]);
    if (w.refs.length === 0) rows.push(['namespace', '- (no namespace references this snapshot)']);
  }
  for (const r of w.refs) {
    rows.push(['namespace', r.namespace], ['key', r.key]);
    if (r.parent) rows.push(['parent key', r.parent]);
    rows.push(['containers', r.containers.length > 0 ? r.containers.map((c) => `${c.id} (${c.role === 'snapshot' ? 'its snapshot' : 'a parent layer'})`).join(', ') : '-']);
    rows.push(['images', r.images.length > 0 ? r.images.join(', ') : '-']);
  }
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return rows.map(([k, v]) => `${(k + ':').padEnd(width)}${v}\n`).join('');
}

export function snapshotsWhich(root: string, ns: string, snapshotter: string, arg: string | undefined, json: boolean, m: MetadataDB, io: WhichIO): number {
  if (arg === undefined || arg === '') throw new WhichError('snapshots which: a path, a directory id or a snapshot key is required');
  let w: SnapshotWhich | undefined;
  if (/^\d+$/.test(arg)) w = whichSnapshotId(root, m, snapshotter, Number(arg));
  else {
    const p = parseSnapshotPath(resolve(root), resolve(arg));
    if (p) w = whichSnapshotId(root, m, p.snapshotter, p.id);
    else if (arg.startsWith('/') || arg.startsWith('./') || arg.startsWith('../')) {
      throw new WhichError(`${arg} is not inside a snapshot directory of ${root} (io.containerd.snapshotter.v1.<name>/snapshots/<id>)`);
    }
  }
  if (w) {
    io.stdout.write(json ? JSON.stringify(w, null, 2) + '\n' : formatWhich(w));
    return w.backend ? 0 : 1;
  }
  const { dir, backend } = snapshotKeyDir(root, m, ns, snapshotter, arg);
  io.stdout.write(json ? JSON.stringify({ namespace: ns, key: arg, snapshotter, id: backend.id, backend: backend.name, dir }, null, 2) + '\n' : dir + '\n');
  return 0;
}
