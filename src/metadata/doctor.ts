// Doctor: inconsistencies between meta.db, the snapshotters' metadata.db files and the files of a
// containerd root. Only reads (every database read-only, lock-free when containerd holds it).
//
//   content   meta.db v1/<ns>/content/blob/<digest>      <->  io.containerd.content.v1.content/blobs/<alg>/<hex>
//             meta.db v1/<ns>/content/ingests/<ref>/ref  <->  io.containerd.content.v1.content/ingest/<sha256(ref)>/
//   snapshots meta.db v1/<ns>/snapshots/<sn>/<key>/{name, parent, children/}
//                  <->  io.containerd.snapshotter.v1.<sn>/metadata.db v1/snapshots/<name>/{id, parent}
//                  <->  io.containerd.snapshotter.v1.<sn>/snapshots/<id>/
//
// What is not a finding: a snapshot directory that is missing (containerd recreates empty ones;
// git-kept fixtures lose them), and blobs or snapshots a GC would collect (unreferenced by images
// but recorded in a namespace) -- those are `tsctr gc --dry-run`'s business.

import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isAlgorithm } from '../content/digest.js';
import type { MetadataDB } from './db.js';
import { SnapshotterDB, type BackendSnapshot } from './snapshotter.js';
import { CONTENT_DIR, blobPath } from './root.js';

export const FINDING_CODES = [
  'blob-file-missing',
  'blob-size-mismatch',
  'blob-digest-mismatch',
  'blob-file-unreferenced',
  'snapshotter-missing',
  'snapshot-backend-missing',
  'snapshot-parent-missing',
  'snapshot-child-missing',
  'backend-snapshot-unreferenced',
  'backend-parent-missing',
  'snapshot-dir-unknown',
  'ingest-dir-missing',
] as const;
export type FindingCode = (typeof FINDING_CODES)[number];

export interface Finding {
  code: FindingCode;
  message: string;
  namespace?: string;
  /** The file or directory concerned, relative to the root. */
  path?: string;
}

export interface DoctorOptions {
  /** Hash every blob file and compare with its name (reads every byte of the content store). */
  verify?: boolean;
}

export interface DoctorReport {
  findings: Finding[];
  checked: { namespaces: number; blobRecords: number; blobFiles: number; ingests: number; snapshotRecords: number; backendSnapshots: number; snapshotDirs: number; verified: number };
}

const SNAPSHOTTER_PREFIX = 'io.containerd.snapshotter.v1.';

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

async function hashFile(path: string, alg: string): Promise<string> {
  const h = createHash(alg);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Every finding of the root (see the file comment), in a stable order. */
export async function doctor(root: string, m: MetadataDB, options: DoctorOptions = {}): Promise<DoctorReport> {
  const findings: Finding[] = [];
  const checked: DoctorReport['checked'] = { namespaces: 0, blobRecords: 0, blobFiles: 0, ingests: 0, snapshotRecords: 0, backendSnapshots: 0, snapshotDirs: 0, verified: 0 };
  const namespaces = m.namespaces().map((n) => n.name);
  checked.namespaces = namespaces.length;

  // ---- content: records vs files ----
  const recorded = new Set<string>();
  for (const ns of namespaces) {
    for (const c of m.content(ns)) {
      checked.blobRecords++;
      recorded.add(c.digest);
      const file = blobPath(root, c.digest);
      const rel = file.slice(root.length + 1);
      let size: number;
      try {
        size = statSync(file).size;
      } catch {
        findings.push({ code: 'blob-file-missing', namespace: ns, path: rel, message: `namespace ${ns} records blob ${c.digest} but ${rel} does not exist` });
        continue;
      }
      if (size !== c.size) findings.push({ code: 'blob-size-mismatch', namespace: ns, path: rel, message: `namespace ${ns} records blob ${c.digest} with ${c.size} bytes, ${rel} has ${size}` });
    }
    for (const ing of m.ingests(ns)) {
      checked.ingests++;
      const rel = join(CONTENT_DIR, 'ingest', createHash('sha256').update(ing.backendRef).digest('hex'));
      if (!existsSync(join(root, rel))) findings.push({ code: 'ingest-dir-missing', namespace: ns, path: rel, message: `namespace ${ns} records ingest ${JSON.stringify(ing.ref)} but ${rel} does not exist` });
    }
  }
  const blobsDir = join(root, CONTENT_DIR, 'blobs');
  for (const alg of listDir(blobsDir)) {
    for (const hex of listDir(join(blobsDir, alg))) {
      const digest = `${alg}:${hex}`;
      const rel = join(CONTENT_DIR, 'blobs', alg, hex);
      checked.blobFiles++;
      if (!recorded.has(digest)) findings.push({ code: 'blob-file-unreferenced', path: rel, message: `${rel} is recorded by no namespace` });
      if (options.verify && isAlgorithm(alg)) {
        const got = await hashFile(join(blobsDir, alg, hex), alg);
        checked.verified++;
        if (got !== hex) findings.push({ code: 'blob-digest-mismatch', path: rel, message: `${rel} hashes to ${alg}:${got}` });
      }
    }
  }

  // ---- snapshots: meta.db records vs the snapshotters' databases vs directories ----
  const backends = new Map<string, BackendSnapshot[]>();
  for (const d of listDir(root)) {
    if (!d.startsWith(SNAPSHOTTER_PREFIX)) continue;
    const db = join(root, d, 'metadata.db');
    if (!existsSync(db)) continue;
    const sdb = SnapshotterDB.open(db, { readOnly: true });
    try {
      backends.set(d.slice(SNAPSHOTTER_PREFIX.length), sdb.list());
    } finally {
      sdb.close();
    }
  }
  const referenced = new Map<string, Set<string>>();
  for (const ns of namespaces) {
    for (const sn of m.snapshotters(ns)) {
      const refs = m.snapshots(ns, sn);
      const list = backends.get(sn);
      if (!list) {
        if (refs.length > 0) findings.push({ code: 'snapshotter-missing', namespace: ns, message: `namespace ${ns} has ${refs.length} snapshots on ${sn}, which has no ${SNAPSHOTTER_PREFIX}${sn}/metadata.db` });
        continue;
      }
      const names = new Set(list.map((b) => b.name));
      const keys = new Set(refs.map((r) => r.key));
      const used = referenced.get(sn) ?? new Set<string>();
      referenced.set(sn, used);
      for (const r of refs) {
        checked.snapshotRecords++;
        used.add(r.name);
        if (!names.has(r.name)) findings.push({ code: 'snapshot-backend-missing', namespace: ns, message: `${sn} snapshot ${JSON.stringify(r.key)} of namespace ${ns} names backend snapshot ${JSON.stringify(r.name)}, which ${sn}'s metadata.db does not have` });
        if (r.parent !== '' && !keys.has(r.parent)) findings.push({ code: 'snapshot-parent-missing', namespace: ns, message: `${sn} snapshot ${JSON.stringify(r.key)} of namespace ${ns} has parent ${JSON.stringify(r.parent)}, which does not exist` });
        for (const c of r.children) {
          if (!keys.has(c)) findings.push({ code: 'snapshot-child-missing', namespace: ns, message: `${sn} snapshot ${JSON.stringify(r.key)} of namespace ${ns} lists child ${JSON.stringify(c)}, which does not exist` });
        }
      }
    }
  }
  for (const [sn, list] of backends) {
    const used = referenced.get(sn) ?? new Set<string>();
    const names = new Set(list.map((b) => b.name));
    const ids = new Set<number>();
    for (const b of list) {
      checked.backendSnapshots++;
      ids.add(b.id);
      if (!used.has(b.name)) findings.push({ code: 'backend-snapshot-unreferenced', message: `${sn} snapshot ${JSON.stringify(b.name)} (id ${b.id}) is referenced by no namespace` });
      if (b.parent !== '' && !names.has(b.parent)) findings.push({ code: 'backend-parent-missing', message: `${sn} snapshot ${JSON.stringify(b.name)} has parent ${JSON.stringify(b.parent)}, which ${sn}'s metadata.db does not have` });
    }
    const dir = join(SNAPSHOTTER_PREFIX + sn, 'snapshots');
    for (const e of listDir(join(root, dir))) {
      checked.snapshotDirs++;
      if (!/^\d+$/.test(e) || !ids.has(Number(e))) findings.push({ code: 'snapshot-dir-unknown', path: join(dir, e), message: `${join(dir, e)} belongs to no snapshot in ${sn}'s metadata.db` });
    }
  }
  return { findings, checked };
}
