// containerd 1.6's metadata garbage collector (metadata/gc.go, gc/gc.go, metadata/db.go GarbageCollect):
// mark from the roots, follow references, and sweep every lease, snapshot record, ingest record and
// blob record nothing reached. A pure function of one read transaction and the time.
//
// Roots, per namespace in key order (scanRoots):
//   leases/<id>            unless labels["containerd.io/gc.expire"] (RFC 3339) is in the past; its
//                          content/, snapshots/<sn>/ and ingests/ entries are roots too ("flat" when the
//                          lease has containerd.io/gc.flat: content refs and snapshot labels not followed)
//   images/<name>          target/digest -> content, and the image's label refs
//   content/ingests/<ref>  when expireat is set and in the future
//   content/blob/<d>       labelled containerd.io/gc.root
//   containers/<id>        snapshotter/snapshotKey -> snapshot (when snapshotter is set), label refs
//   snapshots/<sn>/<key>   labelled containerd.io/gc.root
// References (references):
//   content   labels containerd.io/gc.ref.content, containerd.io/gc.ref.content[./]<anything> -> digest
//             labels containerd.io/gc.ref.snapshot.<sn>[/<anything>] -> snapshot <sn>/<value>
//   snapshot  parent -> <sn>/<parent> (same flatness), and its label refs unless flat
//   ingest    expected -> content
// Images and containers are never collected; they appear here as holders of chains only.

import type { Bucket, Tx } from '../bolt/index.js';
import {
  BUCKET_KEY_EXPECTED,
  BUCKET_KEY_EXPIRE_AT,
  BUCKET_KEY_DIGEST,
  BUCKET_KEY_OBJECT_BLOB,
  BUCKET_KEY_OBJECT_CONTAINERS,
  BUCKET_KEY_OBJECT_CONTENT,
  BUCKET_KEY_OBJECT_IMAGES,
  BUCKET_KEY_OBJECT_INGESTS,
  BUCKET_KEY_OBJECT_LABELS,
  BUCKET_KEY_OBJECT_LEASES,
  BUCKET_KEY_OBJECT_SNAPSHOTS,
  BUCKET_KEY_PARENT,
  BUCKET_KEY_SNAPSHOT_KEY,
  BUCKET_KEY_SNAPSHOTTER,
  BUCKET_KEY_TARGET,
  SCHEMA_VERSION,
  str,
} from './buckets.js';
import { compareTime, decodeTime, formatRFC3339, timeFromDate, type GoTime } from './encoding.js';
import { parseGoRFC3339 as parseRFC3339Go, GoTimeParseError } from '../content/rfc3339.js';
import { ErrCorruptValue } from './errors.js';

export const LABEL_GC_ROOT = 'containerd.io/gc.root';
export const LABEL_GC_SNAP_REF = 'containerd.io/gc.ref.snapshot.';
export const LABEL_GC_CONTENT_REF = 'containerd.io/gc.ref.content';
export const LABEL_GC_EXPIRE = 'containerd.io/gc.expire';
export const LABEL_GC_FLAT = 'containerd.io/gc.flat';

/** gc.Node types (ResourceContent, ResourceSnapshot, ResourceLease, ResourceIngest) plus the holders images and containers. */
export type GCResourceType = 'content' | 'snapshot' | 'ingest' | 'lease' | 'image' | 'container';

/** A gc.Node. Snapshot keys are "<snapshotter>/<key>", as containerd writes them. */
export interface GCNode {
  type: GCResourceType;
  namespace: string;
  key: string;
}

/** How a live object was reached: from `from` (absent for a root) along `edge`. */
export interface GCLink {
  node: GCNode;
  from?: GCNode;
  /** "image", "container", "lease", "label containerd.io/gc.root", "image target", "parent", "label <key>", ... */
  edge: string;
}

export interface GCPlan {
  /** The time leases' gc.expire and ingests' expireat were compared with. */
  now: Date;
  /** What GarbageCollect's sweep deletes, in scanAll's order (per namespace: leases, snapshots, ingests, blobs). */
  removed: GCNode[];
  /** Every marked object (and holder) by nodeId, with the first link that reached it (breadth first from the roots). */
  live: Map<string, GCLink>;
}

/** A stable text id: "<type> <namespace>/<key>". */
export function nodeId(n: GCNode): string {
  return `${n.type} ${n.namespace}/${n.key}`;
}

function gcnode(type: GCResourceType, namespace: string, key: string): GCNode {
  return { type, namespace, key };
}

/** Go's time.Parse(time.RFC3339, s) as milliseconds since the epoch; undefined where Go returns an error. */
export function parseGoRFC3339(s: string): number | undefined {
  try {
    const t = parseRFC3339Go(s);
    return t.unix * 1000 + Math.floor(t.nanos / 1e6);
  } catch (e) {
    if (e instanceof GoTimeParseError) return undefined;
    throw e;
  }
}

/** Nested bucket names of bkt, key order (the `v == nil` entries of a ForEach). */
function buckets(bkt: Bucket | undefined): string[] {
  const out: string[] = [];
  bkt?.forEach((k, v) => {
    if (v === undefined) out.push(str(k));
  });
  return out;
}

/** Every key of bkt (values and buckets alike: lease resource lists are ForEach'd without a check). */
function allKeys(bkt: Bucket | undefined): string[] {
  const out: string[] = [];
  bkt?.forEach((k) => out.push(str(k)));
  return out;
}

function labelValue(bkt: Bucket, key: string): string | undefined {
  const v = bkt.bucket(BUCKET_KEY_OBJECT_LABELS)?.get(key);
  return v === undefined ? undefined : str(v);
}

/** sendLabelRefs: [node, edge] for each gc.ref label, in label key order (content refs first, then snapshot refs). */
function labelRefs(ns: string, bkt: Bucket): [GCNode, string][] {
  const lbkt = bkt.bucket(BUCKET_KEY_OBJECT_LABELS);
  if (!lbkt) return [];
  const content: [GCNode, string][] = [];
  const snaps: [GCNode, string][] = [];
  lbkt.forEach((kb, vb) => {
    if (vb === undefined) return;
    const k = str(kb);
    if (k.startsWith(LABEL_GC_CONTENT_REF)) {
      const c = k[LABEL_GC_CONTENT_REF.length];
      if (c === undefined || c === '.' || c === '/') content.push([gcnode('content', ns, str(vb)), `label ${k}`]);
    } else if (k.startsWith(LABEL_GC_SNAP_REF)) {
      let sn = k.slice(LABEL_GC_SNAP_REF.length);
      const i = sn.indexOf('/');
      if (i >= 0) sn = sn.slice(0, i);
      snaps.push([gcnode('snapshot', ns, `${sn}/${str(vb)}`), `label ${k}`]);
    }
  });
  return [...content, ...snaps];
}

interface Gray {
  node: GCNode;
  /** Reached through a lease with containerd.io/gc.flat (resourceContentFlat / resourceSnapshotFlat). */
  flat: boolean;
}

function nsBucket(tx: Tx, ns: string): Bucket | undefined {
  return tx.bucket(SCHEMA_VERSION)?.bucket(ns);
}

function namespaces(tx: Tx): string[] {
  return buckets(tx.bucket(SCHEMA_VERSION));
}

/**
 * readExpireAt: undefined when absent; a bad value fails the collection, as in containerd. Kept
 * as a GoTime: a time past a JS Date's range (year 275760; a flipped high bit gets there) is
 * still a time to Go, later than now, so the ingest stays a root.
 */
function expireAt(bkt: Bucket): GoTime | undefined {
  const v = bkt.get(BUCKET_KEY_EXPIRE_AT);
  if (v === undefined) return undefined;
  try {
    return decodeTime(v);
  } catch (e) {
    throw new ErrCorruptValue(`failed to read expireat: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** scanRoots as [gray, link] pairs in containerd's order; holders (leases, images, containers) link themselves. */
function scanRoots(tx: Tx, now: number, holders: GCLink[]): [Gray, GCLink][] {
  const out: [Gray, GCLink][] = [];
  const push = (node: GCNode, link: Omit<GCLink, 'node'>, flat = false) => out.push([{ node, flat }, { node, ...link }]);
  const nowTime = timeFromDate(new Date(now));
  for (const ns of namespaces(tx)) {
    const nbkt = nsBucket(tx, ns)!;
    const lbkt = nbkt.bucket(BUCKET_KEY_OBJECT_LEASES);
    for (const id of buckets(lbkt)) {
      const libkt = lbkt!.bucket(id)!;
      const exp = labelValue(libkt, LABEL_GC_EXPIRE);
      if (exp !== undefined) {
        const t = parseGoRFC3339(exp);
        if (t !== undefined && now > t) continue; // expired (an unparsable value is ignored: the lease stays)
      }
      const flat = labelValue(libkt, LABEL_GC_FLAT) !== undefined;
      const lease = gcnode('lease', ns, id);
      push(lease, { edge: exp !== undefined ? `lease (${LABEL_GC_EXPIRE}=${exp})` : 'lease' });
      const res = flat ? `lease resource (${LABEL_GC_FLAT})` : 'lease resource';
      for (const d of allKeys(libkt.bucket(BUCKET_KEY_OBJECT_CONTENT))) push(gcnode('content', ns, d), { from: lease, edge: res }, flat);
      const sbkt = libkt.bucket(BUCKET_KEY_OBJECT_SNAPSHOTS);
      for (const sn of buckets(sbkt)) {
        for (const k of allKeys(sbkt!.bucket(sn))) push(gcnode('snapshot', ns, `${sn}/${k}`), { from: lease, edge: res }, flat);
      }
      for (const r of allKeys(libkt.bucket(BUCKET_KEY_OBJECT_INGESTS))) push(gcnode('ingest', ns, r), { from: lease, edge: res });
    }

    const ibkt = nbkt.bucket(BUCKET_KEY_OBJECT_IMAGES);
    for (const name of buckets(ibkt)) {
      const b = ibkt!.bucket(name)!;
      const image = gcnode('image', ns, name);
      holders.push({ node: image, edge: 'image' });
      const target = b.bucket(BUCKET_KEY_TARGET);
      if (target) push(gcnode('content', ns, str(target.get(BUCKET_KEY_DIGEST))), { from: image, edge: 'image target' });
      for (const [n, edge] of labelRefs(ns, b)) push(n, { from: image, edge });
    }

    const cbkt = nbkt.bucket(BUCKET_KEY_OBJECT_CONTENT);
    const ingests = cbkt?.bucket(BUCKET_KEY_OBJECT_INGESTS);
    for (const ref of buckets(ingests)) {
      const ea = expireAt(ingests!.bucket(ref)!);
      if (ea === undefined || compareTime(nowTime, ea) > 0) continue; // expThreshold.After(*ea)
      push(gcnode('ingest', ns, ref), { edge: `ingest (expireat ${formatRFC3339(ea, true, 0)})` });
    }
    const blobs = cbkt?.bucket(BUCKET_KEY_OBJECT_BLOB);
    for (const d of buckets(blobs)) {
      if (labelValue(blobs!.bucket(d)!, LABEL_GC_ROOT) !== undefined) push(gcnode('content', ns, d), { edge: `label ${LABEL_GC_ROOT}` });
    }

    const ctbkt = nbkt.bucket(BUCKET_KEY_OBJECT_CONTAINERS);
    for (const id of buckets(ctbkt)) {
      const b = ctbkt!.bucket(id)!;
      const container = gcnode('container', ns, id);
      holders.push({ node: container, edge: 'container' });
      const sn = str(b.get(BUCKET_KEY_SNAPSHOTTER));
      if (sn !== '') push(gcnode('snapshot', ns, `${sn}/${str(b.get(BUCKET_KEY_SNAPSHOT_KEY))}`), { from: container, edge: 'container snapshotKey' });
      for (const [n, edge] of labelRefs(ns, b)) push(n, { from: container, edge });
    }

    const snbkt = nbkt.bucket(BUCKET_KEY_OBJECT_SNAPSHOTS);
    for (const sn of buckets(snbkt)) {
      const ssbkt = snbkt!.bucket(sn)!;
      for (const k of buckets(ssbkt)) {
        if (labelValue(ssbkt.bucket(k)!, LABEL_GC_ROOT) !== undefined) push(gcnode('snapshot', ns, `${sn}/${k}`), { edge: `label ${LABEL_GC_ROOT}` });
      }
    }
  }
  return out;
}

/** Splits a snapshot node key "<snapshotter>/<key>" (strings.SplitN(key, "/", 2)). */
export function splitSnapshotKey(key: string): [string, string] | undefined {
  const i = key.indexOf('/');
  return i < 0 ? undefined : [key.slice(0, i), key.slice(i + 1)];
}

/** references: what a node points at, with the edge names. */
function references(tx: Tx, g: Gray): [Gray, string][] {
  const { node } = g;
  const nbkt = nsBucket(tx, node.namespace);
  if (node.type === 'content') {
    if (g.flat) return []; // resourceContentFlat has no case in references
    const bkt = nbkt?.bucket(BUCKET_KEY_OBJECT_CONTENT)?.bucket(BUCKET_KEY_OBJECT_BLOB)?.bucket(node.key);
    return bkt ? labelRefs(node.namespace, bkt).map(([n, e]) => [{ node: n, flat: false }, e]) : [];
  }
  if (node.type === 'snapshot') {
    const parts = splitSnapshotKey(node.key);
    if (!parts) throw new ErrCorruptValue(`invalid snapshot gc key ${node.key}`);
    const [sn, name] = parts;
    const bkt = nbkt?.bucket(BUCKET_KEY_OBJECT_SNAPSHOTS)?.bucket(sn)?.bucket(name);
    if (!bkt) return [];
    const out: [Gray, string][] = [];
    const pv = bkt.get(BUCKET_KEY_PARENT);
    if (pv && pv.length > 0) out.push([{ node: gcnode('snapshot', node.namespace, `${sn}/${str(pv)}`), flat: g.flat }, 'parent']);
    if (!g.flat) for (const [n, e] of labelRefs(node.namespace, bkt)) out.push([{ node: n, flat: false }, e]);
    return out;
  }
  if (node.type === 'ingest') {
    const bkt = nbkt?.bucket(BUCKET_KEY_OBJECT_CONTENT)?.bucket(BUCKET_KEY_OBJECT_INGESTS)?.bucket(node.key);
    const expected = bkt?.get(BUCKET_KEY_EXPECTED);
    return expected && expected.length > 0 ? [[{ node: gcnode('content', node.namespace, str(expected)), flat: false }, 'ingest expected']] : [];
  }
  return [];
}

/** scanAll: every collectable record, in containerd's order. */
export function scanAll(tx: Tx): GCNode[] {
  const out: GCNode[] = [];
  for (const ns of namespaces(tx)) {
    const nbkt = nsBucket(tx, ns)!;
    for (const id of buckets(nbkt.bucket(BUCKET_KEY_OBJECT_LEASES))) out.push(gcnode('lease', ns, id));
    const sbkt = nbkt.bucket(BUCKET_KEY_OBJECT_SNAPSHOTS);
    for (const sn of buckets(sbkt)) for (const k of buckets(sbkt!.bucket(sn))) out.push(gcnode('snapshot', ns, `${sn}/${k}`));
    const cbkt = nbkt.bucket(BUCKET_KEY_OBJECT_CONTENT);
    for (const r of buckets(cbkt?.bucket(BUCKET_KEY_OBJECT_INGESTS))) out.push(gcnode('ingest', ns, r));
    for (const d of buckets(cbkt?.bucket(BUCKET_KEY_OBJECT_BLOB))) out.push(gcnode('content', ns, d));
  }
  return out;
}

/**
 * What containerd 1.6's GarbageCollect would delete from meta.db at `now`, and why everything else stays.
 * Marking is breadth first from the roots in scanRoots order, so each live object's link is on a shortest
 * chain; the marked set is containerd's (its depth-first Tricolor reaches the same nodes).
 */
export function gcPlan(tx: Tx, now: Date = new Date()): GCPlan {
  const live = new Map<string, GCLink>();
  const holders: GCLink[] = [];
  const roots = scanRoots(tx, now.getTime(), holders);
  for (const h of holders) if (!live.has(nodeId(h.node))) live.set(nodeId(h.node), h);
  const seen = new Set<string>(); // Tricolor's "seen": keyed with the flat bit
  const queue: Gray[] = [];
  const reach = (g: Gray, link: GCLink) => {
    const sid = (g.flat ? 'flat ' : '') + nodeId(g.node);
    if (seen.has(sid)) return;
    seen.add(sid);
    queue.push(g);
    const id = nodeId(g.node);
    if (!live.has(id)) live.set(id, link);
  };
  for (const [g, link] of roots) reach(g, link);
  for (let i = 0; i < queue.length; i++) {
    const g = queue[i]!;
    for (const [t, edge] of references(tx, g)) reach(t, { node: t.node, from: g.node, edge });
  }
  const removed = scanAll(tx).filter((n) => !live.has(nodeId(n)));
  return { now, removed, live };
}

/** The chain of links from a root to `node` (root first), or undefined when nothing reaches it. */
export function whyChain(plan: GCPlan, node: GCNode): GCLink[] | undefined {
  const out: GCLink[] = [];
  const visited = new Set<string>();
  let cur: GCNode | undefined = node;
  while (cur) {
    const id = nodeId(cur);
    const link = plan.live.get(id);
    if (!link || visited.has(id)) return out.length === 0 ? undefined : out.reverse();
    visited.add(id);
    out.push(link);
    cur = link.from;
  }
  return out.reverse();
}

/** remove (metadata/gc.go): deletes the record of each node in one write transaction; missing buckets are skipped. */
export function removeGarbage(tx: Tx, nodes: GCNode[]): void {
  for (const n of nodes) {
    const nbkt = nsBucket(tx, n.namespace);
    if (!nbkt) continue;
    let bkt: Bucket | undefined;
    let key = n.key;
    if (n.type === 'content') bkt = nbkt.bucket(BUCKET_KEY_OBJECT_CONTENT)?.bucket(BUCKET_KEY_OBJECT_BLOB);
    else if (n.type === 'ingest') bkt = nbkt.bucket(BUCKET_KEY_OBJECT_CONTENT)?.bucket(BUCKET_KEY_OBJECT_INGESTS);
    else if (n.type === 'lease') bkt = nbkt.bucket(BUCKET_KEY_OBJECT_LEASES);
    else if (n.type === 'snapshot') {
      const parts = splitSnapshotKey(n.key);
      if (!parts) throw new ErrCorruptValue(`invalid snapshot gc key ${n.key}`);
      bkt = nbkt.bucket(BUCKET_KEY_OBJECT_SNAPSHOTS)?.bucket(parts[0]);
      key = parts[1];
    }
    if (bkt?.bucket(key)) bkt.deleteBucket(key);
  }
}
