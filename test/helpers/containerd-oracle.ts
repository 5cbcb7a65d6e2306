// containerd objects derived from Go's reading of a file (`ref dump`, Go bbolt 1.3.6), decoded here
// following containerd's own readers (metadata/{namespaces,images,containers,content,leases,snapshot,
// sandbox}.go, snapshots/storage/bolt.go). Nothing here uses src/: bytes are decoded with Buffer, so the
// tests compare our engine and our schema readers against an independent reading of what Go saw.
//
// The objects have the shapes of src/metadata's listings (optional fields absent when containerd's
// reader would leave them nil), so assert.deepEqual compares them directly.
import { runReference, type Dump, type DumpItem } from './reference.js';

export interface OTime {
  unix: number;
  nanos: number;
  offset?: number;
}
export interface OAny {
  typeUrl: string;
  value: Uint8Array;
}
type Map_ = Record<string, string>;

/** A dumped bucket: its plain keys and its nested buckets, by name (UTF-8 of the key bytes). */
class B {
  readonly values = new Map<string, Buffer>();
  readonly buckets = new Map<string, B>();
  readonly order: { name: string; bucket: boolean }[] = [];
  constructor(items: DumpItem[]) {
    for (const it of items) {
      const name = Buffer.from(it.k, 'hex').toString('utf8');
      if ('bucket' in it) {
        this.buckets.set(name, new B(it.bucket));
        this.order.push({ name, bucket: true });
      } else {
        this.values.set(name, Buffer.from(it.v, 'hex'));
        this.order.push({ name, bucket: false });
      }
    }
  }
  b(...path: string[]): B | undefined {
    let cur: B | undefined = this;
    for (const p of path) cur = cur?.buckets.get(p);
    return cur;
  }
  get(k: string): Buffer | undefined {
    return this.values.get(k);
  }
  childBuckets(): string[] {
    return this.order.filter((o) => o.bucket).map((o) => o.name);
  }
  plainKeys(): string[] {
    return this.order.filter((o) => !o.bucket).map((o) => o.name);
  }
}

export const ZERO: OTime = { unix: -62135596800, nanos: 0 };

/** time.UnmarshalBinary. */
export function goTime(b: Buffer): OTime {
  const v = b[0];
  if ((v !== 1 || b.length !== 15) && (v !== 2 || b.length !== 16)) throw new Error(`bad time ${b.toString('hex')}`);
  const sec = b.readBigInt64BE(1);
  const nanos = b.readInt32BE(9);
  let off = b.readInt16BE(13) * 60;
  if (v === 2) off += b.readInt8(15);
  const t: OTime = { unix: Number(sec - 62135596800n), nanos };
  if (off !== -60) t.offset = off;
  return t;
}

/** binary.Varint. */
export function varint(b: Buffer): number {
  let x = 0n;
  let s = 0n;
  for (const c of b) {
    x |= BigInt(c & 0x7f) << s;
    s += 7n;
    if (c < 0x80) break;
  }
  return Number(x & 1n ? -(x >> 1n) - 1n : x >> 1n);
}

export function uvarint(b: Buffer): number {
  let x = 0;
  let m = 1;
  for (const c of b) {
    x += (c & 0x7f) * m;
    m *= 128;
    if (c < 0x80) break;
  }
  return x;
}

/** proto.Unmarshal of a google.protobuf.Any (fields 1 and 2, both length-delimited). */
export function anyOf(b: Buffer): OAny {
  const out: OAny = { typeUrl: '', value: new Uint8Array(0) };
  let i = 0;
  while (i < b.length) {
    const tag = uvarint(b.subarray(i));
    while (b[i]! >= 0x80) i++;
    i++;
    if ((tag & 7) !== 2) throw new Error('unexpected wire type in Any');
    const len = uvarint(b.subarray(i));
    while (b[i]! >= 0x80) i++;
    i++;
    const v = b.subarray(i, i + len);
    i += len;
    if (tag >> 3 === 1) out.typeUrl = v.toString('utf8');
    else if (tag >> 3 === 2) out.value = new Uint8Array(v);
  }
  return out;
}

const s = (b: Buffer | undefined): string => (b === undefined ? '' : b.toString('utf8'));

function map(b: B | undefined): Map_ | undefined {
  if (!b) return undefined;
  const out: Map_ = {};
  for (const k of b.plainKeys()) out[k] = s(b.get(k));
  return out;
}
function time(b: B, k: string): OTime | undefined {
  const v = b.get(k);
  return v === undefined || v.length === 0 ? undefined : goTime(v);
}
function stamps(b: B): { createdAt: OTime; updatedAt: OTime } {
  return { createdAt: time(b, 'createdat') ?? ZERO, updatedAt: time(b, 'updatedat') ?? ZERO };
}
function withOpt<T extends object>(o: T, k: string, v: unknown): T {
  if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  return o;
}

/** go-digest's Parse: what containerd's content Walk accepts as a blob key. */
const DIGEST = /^(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$/;

export interface OracleNamespace {
  name: string;
  labels: Map_;
  images: unknown[];
  containers: unknown[];
  content: unknown[];
  ingests: unknown[];
  leases: unknown[];
  snapshotters: string[];
  snapshots: Record<string, unknown[]>;
  sandboxes: unknown[];
}

export interface Oracle {
  version: number | undefined;
  namespaces: OracleNamespace[];
}

function readImage(name: string, b: B): unknown {
  const target: Record<string, unknown> = { mediaType: '', digest: '', size: 0 };
  withOpt(target, 'annotations', map(b.b('annotations')));
  const t = b.b('target');
  if (t) {
    target.digest = s(t.get('digest'));
    target.mediaType = s(t.get('mediatype'));
    const sz = t.get('size');
    if (sz && sz.length > 0) target.size = varint(sz);
  }
  return withOpt({ name, target, ...stamps(b) }, 'labels', map(b.b('labels')));
}

/** runtime/{name, options} of a container or sandbox: options only when stored non-empty. */
function readRuntime(b: B): Record<string, unknown> {
  const r = b.b('runtime');
  if (!r) return { name: '' };
  const rt: Record<string, unknown> = { name: s(r.get('name')) };
  const o = r.get('options');
  if (o && o.length > 0) rt.options = anyOf(o);
  return rt;
}

/** extensions/<name> of a container or sandbox, each a protobuf Any; undefined without the bucket. */
function readExtensions(b: B): Record<string, unknown> | undefined {
  const e = b.b('extensions');
  return e ? Object.fromEntries(e.plainKeys().map((k) => [k, anyOf(e.get(k)!)])) : undefined;
}

function readContainer(id: string, b: B): unknown {
  const c: Record<string, unknown> = { id, image: s(b.get('image')), runtime: readRuntime(b), snapshotKey: s(b.get('snapshotKey')), snapshotter: s(b.get('snapshotter')), ...stamps(b) };
  withOpt(c, 'labels', map(b.b('labels')));
  const spec = b.get('spec');
  if (spec !== undefined) c.spec = anyOf(spec);
  if (b.get('sandboxid') !== undefined) c.sandboxId = s(b.get('sandboxid'));
  const ext = readExtensions(b);
  if (ext) c.extensions = ext;
  return c;
}

function readSandbox(id: string, b: B, layout: 'v1' | 'top-level'): unknown {
  const sb: Record<string, unknown> = { id, runtime: readRuntime(b), layout, ...stamps(b) };
  withOpt(sb, 'labels', map(b.b('labels')));
  const spec = b.get('spec');
  if (spec && spec.length > 0) sb.spec = anyOf(spec);
  const ext = readExtensions(b);
  if (ext) sb.extensions = ext;
  if (b.get('sandboxer') !== undefined) sb.sandboxer = s(b.get('sandboxer'));
  return sb;
}

/** The containerd objects Go's dump of a meta.db holds. */
export function metaOracle(dump: Dump): Oracle {
  const root = new B(dump.buckets);
  const v1 = root.b('v1');
  const ver = v1?.get('version');
  const out: Oracle = { version: ver && ver.length > 0 ? varint(ver) : undefined, namespaces: [] };
  for (const name of v1?.childBuckets() ?? []) {
    const nb = v1!.b(name)!;
    const images = (nb.b('images')?.childBuckets() ?? []).map((n) => readImage(n, nb.b('images', n)!));
    const containers = (nb.b('containers')?.childBuckets() ?? []).map((n) => readContainer(n, nb.b('containers', n)!));
    const blobs = nb.b('content', 'blob');
    const content = (blobs?.childBuckets() ?? [])
      .filter((d) => DIGEST.test(d))
      .map((d) => {
        const b = blobs!.b(d)!;
        const sz = b.get('size');
        return withOpt({ digest: d, size: sz && sz.length > 0 ? varint(sz) : 0, ...stamps(b) }, 'labels', map(b.b('labels')));
      });
    const ingb = nb.b('content', 'ingests');
    const ingests = (ingb?.childBuckets() ?? []).map((r) => {
      const b = ingb!.b(r)!;
      const ing = withOpt({ ref: r, backendRef: s(b.get('ref')) }, 'expireAt', time(b, 'expireat'));
      return withOpt(ing, 'expected', b.get('expected') === undefined ? undefined : s(b.get('expected')));
    });
    const lb = nb.b('leases');
    const leases = (lb?.childBuckets() ?? []).map((id) => {
      const b = lb!.b(id)!;
      const resources: { id: string; type: string }[] = [];
      for (const t of ['content', 'ingests', 'images']) for (const k of b.b(t)?.plainKeys() ?? []) resources.push({ id: k, type: t });
      for (const sn of b.b('snapshots')?.childBuckets() ?? []) for (const k of b.b('snapshots', sn)!.plainKeys()) resources.push({ id: k, type: `snapshots/${sn}` });
      return withOpt({ id, createdAt: time(b, 'createdat') ?? ZERO, resources }, 'labels', map(b.b('labels')));
    });
    const snb = nb.b('snapshots');
    const snapshotters = snb?.childBuckets() ?? [];
    const snapshots: Record<string, unknown[]> = {};
    for (const sn of snapshotters) {
      snapshots[sn] = snb!.b(sn)!.childBuckets().map((key) => {
        const b = snb!.b(sn, key)!;
        const ref = { key, name: s(b.get('name')), parent: s(b.get('parent')), ...stamps(b), children: b.b('children')?.plainKeys() ?? [] };
        return withOpt(ref, 'labels', map(b.b('labels')));
      });
    }
    const sandboxes: unknown[] = [];
    const seen = new Set<string>();
    for (const [bkt, layout] of [[nb.b('sandboxes'), 'v1'], [name === 'v1' ? undefined : root.b(name, 'sandboxes'), 'top-level']] as const) {
      for (const id of bkt?.childBuckets() ?? []) {
        if (seen.has(id)) continue;
        seen.add(id);
        sandboxes.push(readSandbox(id, bkt!.b(id)!, layout));
      }
    }
    out.namespaces.push({ name, labels: map(nb.b('labels')) ?? {}, images, containers, content, ingests, leases, snapshotters, snapshots, sandboxes });
  }
  return out;
}

const KINDS: Record<number, string> = { 1: 'View', 2: 'Active', 3: 'Committed' };

/** The snapshots of a snapshotter's metadata.db as Go read it (storage/bolt.go). */
export function snapshotterOracle(dump: Dump): unknown[] {
  const sb = new B(dump.buckets).b('v1', 'snapshots');
  return (sb?.childBuckets() ?? []).map((name) => {
    const b = sb!.b(name)!;
    const num = (k: string, f: (x: Buffer) => number): number => {
      const v = b.get(k);
      return v && v.length > 0 ? f(v) : 0;
    };
    const snap = { name, id: num('id', uvarint), kind: KINDS[b.get('kind')?.[0] ?? 0] ?? 'Unknown', parent: s(b.get('parent')), ...stamps(b), inodes: num('inodes', varint), size: num('size', varint) };
    return withOpt(snap, 'labels', map(b.b('labels')));
  });
}

/** Go's reading of a file through the reference program. */
export function goDump(path: string): Dump {
  return runReference(['dump', path]) as Dump;
}

/** RFC3339Nano as Go prints a time.Time in JSON (trailing zeros of the fraction trimmed). */
export function rfc3339Nano(t: OTime): string {
  const off = t.offset ?? 0;
  const d = new Date((t.unix + off) * 1000);
  let out = d.toISOString().slice(0, 19);
  if (t.nanos !== 0) out += '.' + String(t.nanos).padStart(9, '0').replace(/0+$/, '');
  if (off === 0) return out + 'Z';
  const a = Math.abs(off);
  return `${out}${off < 0 ? '-' : '+'}${String(Math.floor(a / 3600)).padStart(2, '0')}:${String(Math.floor((a % 3600) / 60)).padStart(2, '0')}`;
}

/** What tsctr's --json prints for these objects: bytes as base64, times as RFC3339Nano. */
export function asJSON(v: unknown): unknown {
  return JSON.parse(
    JSON.stringify(v, (_k, x) => {
      if (x instanceof Uint8Array) return Buffer.from(x).toString('base64');
      if (typeof x === 'object' && x !== null && 'unix' in x && 'nanos' in x && Object.keys(x).length <= 3) return rfc3339Nano(x as OTime);
      return x;
    }),
  );
}
