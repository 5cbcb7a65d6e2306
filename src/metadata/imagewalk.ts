// Walking an image's descriptor tree through a blob reader: image size and platforms as ctr computes them
// (images.Image.Size with platforms.Default(), images.Platforms). The reader returns a blob's bytes or
// throws (missing blob); errors end the walk and are returned beside the partial result, as Go does.

import type { Descriptor } from './images.js';
import { formatPlatform, normalizePlatform, type MatchComparer, type Platform } from './platforms.js';
import { ErrCorruptValue, ErrInvalidArgument, ErrNotFound } from './errors.js';
import { goJSONKind as goKind, GoJSONNumber, GoJSONSyntaxError, parseGoJSON, type GoJSON } from './gojson-scan.js';
import { GoTimeParseError, parseGoRFC3339 } from '../content/rfc3339.js';

/** A blob's bytes for a descriptor (its digest and size), or throws (missing blob, short file). */
export type BlobReader = (desc: Descriptor) => Uint8Array;

export interface OciDescriptor extends Descriptor {
  platform?: Platform;
}

const MT_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const MT_DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const MT_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const MT_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const MT_DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const MT_OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';

const SKIP = Symbol('skip');

/** A descriptor as Go decodes one from a manifest or index: fields of the wrong type are left zero. */
export function toDescriptor(o: unknown): OciDescriptor {
  const d = (o ?? {}) as Record<string, unknown>;
  const out: OciDescriptor = {
    mediaType: typeof d.mediaType === 'string' ? d.mediaType : '',
    digest: typeof d.digest === 'string' ? d.digest : '',
    size: typeof d.size === 'number' ? d.size : 0,
  };
  if (d.annotations && typeof d.annotations === 'object') {
    const a = Object.entries(d.annotations as Record<string, unknown>).filter(([, v]) => typeof v === 'string') as [string, string][];
    if (a.length > 0) out.annotations = Object.fromEntries(a);
  }
  const p = d.platform as Record<string, unknown> | undefined;
  if (p && typeof p === 'object') {
    out.platform = { os: String(p.os ?? ''), architecture: String(p.architecture ?? '') };
    if (typeof p.variant === 'string' && p.variant) out.platform.variant = p.variant;
  }
  return out;
}

/**
 * A struct field's value as Go's decoder fills it from an object: every member whose key is the
 * field's name, exactly or case-insensitively, is decoded into it in turn, so the last one wins.
 */
function member(o: { members: [string, GoJSON, Uint8Array][] }, name: string): GoJSON | undefined {
  let v: GoJSON | undefined;
  for (const [k, x] of o.members) if (k === name || k.toLowerCase() === name.toLowerCase()) v = x;
  return v;
}

const isObject = (v: GoJSON | undefined): v is { members: [string, GoJSON, Uint8Array][] } =>
  v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v) && !(v instanceof GoJSONNumber);

/** A GoJSON value as plain JSON (numbers by value; for toDescriptor, after the checks). */
function plainJSON(v: GoJSON): unknown {
  if (v instanceof GoJSONNumber) return v.value;
  if (Array.isArray(v)) return v.map(plainJSON);
  if (isObject(v)) {
    const o: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [k, x] of v.members) o[k] = plainJSON(x);
    return o;
  }
  return v;
}

const PLATFORM_FIELDS: readonly [string, string][] = [
  ['architecture', 'string'],
  ['os', 'string'],
  ['os.version', 'string'],
  ['os.features', '[]string'],
  ['variant', 'string'],
];
const DESCRIPTOR_FIELDS: readonly [string, string][] = [
  ['mediaType', 'string'],
  ['digest', 'digest.Digest'],
  ['size', 'int64'],
  ['urls', '[]string'],
  ['annotations', 'map[string]string'],
  ['platform', '*v1.Platform'],
  ['artifactType', 'string'],
];

/** The field a member's key names: exactly, else case-insensitively. */
const fieldOf = (fields: readonly [string, string][], k: string): [string, string] | undefined =>
  fields.find((f) => f[0] === k) ?? fields.find((f) => f[0].toLowerCase() === k.toLowerCase());

/**
 * The type errors Go's json.Unmarshal reports for a descriptor (v1.Descriptor and its platform),
 * in the order the members come (Go reports the earliest): `path` is the field path from the
 * document's root, as Go names it ("manifests.size"). Sizes are checked on their literal, as
 * strconv.ParseInt checks them (1.0 and 1e3 are refused).
 */
function checkDescriptor(v: GoJSON, path: string, typeName: string, struct: string): void {
  if (v === null) return;
  if (!isObject(v)) throw new ErrCorruptValue(`json: cannot unmarshal ${goKind(v)} into Go struct field ${struct}.${path} of type ${typeName}`);
  for (const [k, x] of v.members) {
    const f = fieldOf(DESCRIPTOR_FIELDS, k);
    if (f === undefined || x === null) continue;
    const [name, t] = f;
    const at = `${path}.${name}`;
    const bad = (kind: string, type = t) => new ErrCorruptValue(`json: cannot unmarshal ${kind} into Go struct field Descriptor.${at} of type ${type}`);
    if ((t === 'string' || t === 'digest.Digest') && typeof x !== 'string') throw bad(goKind(x));
    if (t === 'int64') {
      if (!(x instanceof GoJSONNumber)) throw bad(goKind(x));
      if (!/^-?[0-9]+$/.test(x.text) || BigInt(x.text) > (1n << 63n) - 1n || BigInt(x.text) < -(1n << 63n)) throw bad(`number ${x.text}`);
    }
    if (t === '[]string') {
      if (!Array.isArray(x)) throw bad(goKind(x));
      for (const e of x) if (e !== null && typeof e !== 'string') throw bad(goKind(e), 'string');
    }
    if (t === 'map[string]string') {
      if (!isObject(x)) throw bad(goKind(x));
      for (const [, e] of x.members) if (e !== null && typeof e !== 'string') throw bad(goKind(e), 'string');
    }
    if (t === '*v1.Platform') {
      if (!isObject(x)) throw bad(goKind(x), 'v1.Platform');
      for (const [pk, pv] of x.members) {
        const pf = fieldOf(PLATFORM_FIELDS, pk);
        if (pf === undefined || pv === null) continue;
        const pbad = (kind: string, type = pf[1]) => new ErrCorruptValue(`json: cannot unmarshal ${kind} into Go struct field Platform.${at}.${pf[0]} of type ${type}`);
        if (pf[1] === 'string' && typeof pv !== 'string') throw pbad(goKind(pv));
        if (pf[1] === '[]string') {
          if (!Array.isArray(pv)) throw pbad(goKind(pv));
          for (const e of pv) if (e !== null && typeof e !== 'string') throw pbad(goKind(e), 'string');
        }
      }
    }
  }
}

/**
 * A manifest's or index's document as images.Children decodes it. validateMediaType first, its
 * errors wrapped "children: invalid desc <digest>: ...": the document decoded into raw members
 * (only a non-object document or a mediaType that is not a string fails there); a schema 1
 * document, an index with a config or layers (or a manifest's mediaType), a manifest with
 * manifests (or an index's mediaType) are refused. Then the descriptors it lists, with Go's type
 * errors (not wrapped).
 */
function document(read: BlobReader, desc: Descriptor, index: boolean): { config: unknown; items: unknown[] } {
  const wrap = (why: string): string => `children: invalid desc ${desc.digest}: ${why}`;
  let doc: GoJSON;
  try {
    doc = parseGoJSON(read(desc));
  } catch (e) {
    if (e instanceof GoJSONSyntaxError) throw new ErrCorruptValue(wrap(e.message));
    throw e;
  }
  const invalid = (why: string) => new ErrCorruptValue(wrap(why));
  if (doc === null) return { config: undefined, items: [] };
  if (!isObject(doc)) throw invalid(`json: cannot unmarshal ${goKind(doc)} into Go value of type images.unknownDocument`);
  const mt = member(doc, 'mediaType');
  if (mt !== undefined && mt !== null && typeof mt !== 'string') throw invalid(`json: cannot unmarshal ${goKind(mt)} into Go struct field unknownDocument.mediaType of type string`);
  // json.RawMessage members: present with any value (null included) counts.
  const has = (name: string): boolean => member(doc as { members: [string, GoJSON, Uint8Array][] }, name) !== undefined;
  if (has('fsLayers')) throw invalid('media-type: schema 1 not supported');
  if (index && (has('config') || has('layers') || mt === MT_DOCKER_MANIFEST || mt === MT_OCI_MANIFEST)) throw invalid(`media-type: expected index but found manifest (${desc.mediaType})`);
  if (!index && (has('manifests') || mt === MT_DOCKER_LIST || mt === MT_OCI_INDEX)) throw invalid(`media-type: expected manifest but found index (${desc.mediaType})`);
  const struct = index ? 'Index' : 'Manifest';
  const field = index ? 'manifests' : 'layers';
  const config = index ? undefined : member(doc, 'config');
  if (config !== undefined) checkDescriptor(config, 'config', 'v1.Descriptor', struct);
  const items = member(doc, field);
  if (items === undefined || items === null) return { config: config === undefined ? undefined : plainJSON(config), items: [] };
  if (!Array.isArray(items)) throw new ErrCorruptValue(`json: cannot unmarshal ${goKind(items)} into Go struct field ${struct}.${field} of type []v1.Descriptor`);
  for (const it of items) checkDescriptor(it, field, 'v1.Descriptor', struct);
  return { config: config === undefined ? undefined : plainJSON(config), items: items.map(plainJSON) };
}

/** images.Children: a manifest's config and layers, an index's manifests, nothing for other types. */
export function children(read: BlobReader, desc: Descriptor): OciDescriptor[] {
  switch (desc.mediaType) {
    case MT_DOCKER_MANIFEST:
    case MT_OCI_MANIFEST: {
      const m = document(read, desc, false);
      return [toDescriptor(m.config), ...m.items.map(toDescriptor)];
    }
    case MT_DOCKER_LIST:
    case MT_OCI_INDEX:
      return document(read, desc, true).items.map(toDescriptor);
  }
  return [];
}

/**
 * Bounds of one walk, far past any image (an index of manifests of layers is 3 levels, and the
 * walks below visit one manifest of an index, or none past the index when its entries name
 * their platforms). The content store does not check that a blob hashes to its digest (nor does
 * containerd's ReadBlob), so a damaged or tampered blob can list itself or its ancestors (Go's
 * images.Walk then recurses until the goroutine's stack overflows), or blobs that list one
 * another many times over (exponentially many paths).
 */
const WALK_MAX_DEPTH = 32;
const WALK_MAX_VISITS = 100_000;

/**
 * images.Walk: the handler for each descriptor, depth first, then for the children it returns.
 * Children of a descriptor whose digest is one of its ancestors' (a cycle), a walk deeper than
 * WALK_MAX_DEPTH or one of more than WALK_MAX_VISITS descriptors end it with ErrCorruptValue.
 */
function walk(handler: (d: OciDescriptor) => OciDescriptor[] | typeof SKIP, descs: OciDescriptor[]): void {
  const above: string[] = []; // digests from the first descriptor down to the one being walked
  let visits = 0;
  const visit = (ds: OciDescriptor[]): void => {
    for (const d of ds) {
      if (++visits > WALK_MAX_VISITS) throw new ErrCorruptValue(`children: more than ${WALK_MAX_VISITS} descriptors below ${above[0]}: blobs list one another many times over`);
      const ch = handler(d);
      if (ch === SKIP || ch.length === 0) continue;
      // Go would walk d's children again below d, and so on without end.
      const i = above.indexOf(d.digest);
      if (i !== -1) throw new ErrCorruptValue(`children: invalid desc ${d.digest}: descriptor cycle: ${[...above.slice(i), d.digest].join(' -> ')}`);
      if (above.length + 1 >= WALK_MAX_DEPTH) throw new ErrCorruptValue(`children: invalid desc ${d.digest}: descriptors nested deeper than ${WALK_MAX_DEPTH} levels`);
      above.push(d.digest);
      visit(ch);
      above.pop();
    }
  };
  visit(descs);
}

/** An error the walk reports beside its result (ours, or Node's with a code); anything else is a bug and goes up. */
function typedOnly(e: unknown): Error {
  if (e instanceof Error && typeof (e as { code?: unknown }).code === 'string') return e;
  throw e;
}

/** images.Image.Size(ctx, cs, platform): sum of the sizes reached for one platform. */
export function imageSize(read: BlobReader, target: Descriptor, platform: MatchComparer): { size: number; error?: Error } {
  let size = 0;
  try {
    walk((d) => {
      if (d.size < 0) throw new ErrInvalidArgument(`invalid size ${d.size} in ${d.digest} (${d.mediaType})`);
      size += d.size;
      let ch = children(read, d).filter((c) => !c.platform || platform.match(c.platform));
      if (d.mediaType === MT_OCI_INDEX || d.mediaType === MT_DOCKER_LIST) {
        ch = ch
          .map((c, i) => [c, i] as const)
          .sort(([a, ai], [b, bi]) => {
            const l = (x: OciDescriptor, y: OciDescriptor): boolean =>
              x.platform === undefined ? false : y.platform === undefined ? true : platform.less(x.platform, y.platform);
            return l(a, b) ? -1 : l(b, a) ? 1 : ai - bi;
          })
          .map(([c]) => c);
        if (ch.length === 0) throw new ErrNotFound('no match for platform in manifest: not found');
        ch = ch.slice(0, 1);
      }
      return ch;
    }, [target]);
  } catch (e) {
    return { size, error: typedOnly(e) };
  }
  return { size };
}

// ocispec.Image (image-spec as containerd 1.6.20 vendors it), the fields json.Unmarshal checks:
// [json name, kind, Go type]; kinds: string, bool, time (*time.Time: Time.UnmarshalJSON of the raw
// text), []string, map (map[string]string), set (map[string]struct {}), or a struct below.
type ConfigField = readonly [string, string, string];
const IMAGE_TYPES: Record<string, readonly ConfigField[]> = {
  Image: [
    ['created', 'time', 'time.Time'],
    ['author', 'string', 'string'],
    ['architecture', 'string', 'string'],
    ['variant', 'string', 'string'],
    ['os', 'string', 'string'],
    ['os.version', 'string', 'string'],
    ['os.features', '[]string', '[]string'],
    ['config', 'ImageConfig', 'v1.ImageConfig'],
    ['rootfs', 'RootFS', 'v1.RootFS'],
    ['history', '[]History', '[]v1.History'],
  ],
  ImageConfig: [
    ['User', 'string', 'string'],
    ['ExposedPorts', 'set', 'map[string]struct {}'],
    ['Env', '[]string', '[]string'],
    ['Entrypoint', '[]string', '[]string'],
    ['Cmd', '[]string', '[]string'],
    ['Volumes', 'set', 'map[string]struct {}'],
    ['WorkingDir', 'string', 'string'],
    ['Labels', 'map', 'map[string]string'],
    ['StopSignal', 'string', 'string'],
    ['ArgsEscaped', 'bool', 'bool'],
  ],
  RootFS: [
    ['type', 'string', 'string'],
    ['diff_ids', '[]string', '[]digest.Digest'],
  ],
  History: [
    ['created', 'time', 'time.Time'],
    ['created_by', 'string', 'string'],
    ['author', 'string', 'string'],
    ['comment', 'string', 'string'],
    ['empty_layer', 'bool', 'bool'],
  ],
};

/**
 * json.Unmarshal of a config blob into ocispec.Image, as images.Platforms does, for its os and
 * architecture. Go records the first type error and goes on, but a time that does not parse
 * (Time.UnmarshalJSON) ends the decoding with its own error; both are Go's texts.
 */
function decodeImageConfig(b: Uint8Array): { os: string; architecture: string } {
  let v: GoJSON;
  try {
    v = parseGoJSON(b);
  } catch (e) {
    if (e instanceof GoJSONSyntaxError) throw new ErrCorruptValue(e.message);
    throw e;
  }
  let first: string | undefined;
  const typeError = (kind: string, goType: string, struct: string | undefined, path: string[]): void => {
    first ??= `json: cannot unmarshal ${kind} into ${struct === undefined ? 'Go value' : `Go struct field ${struct}.${path.join('.')}`} of type ${goType}`;
  };
  const out = { os: '', architecture: '' };
  const value = (kind: string, goType: string, x: GoJSON, raw: Uint8Array, struct: string, path: string[]): void => {
    if (x === null) return;
    if (kind === 'time') {
      try {
        parseGoRFC3339(raw, true);
      } catch (e) {
        if (e instanceof GoTimeParseError) throw new ErrCorruptValue(e.message);
        throw e;
      }
      return;
    }
    if (kind === 'string' || kind === 'bool') {
      if (goKind(x) !== kind) typeError(goKind(x), goType, struct, path);
      return;
    }
    if (kind.startsWith('[]')) {
      if (!Array.isArray(x)) return typeError(goKind(x), goType, struct, path);
      const elem = kind.slice(2);
      for (const e of x) {
        if (elem === 'string') {
          if (e !== null && typeof e !== 'string') typeError(goKind(e), goType.slice(2), struct, path);
        } else object(elem, goType.slice(2), e, struct, path);
      }
      return;
    }
    if (kind === 'map' || kind === 'set') {
      if (x === null || typeof x !== 'object' || Array.isArray(x) || x instanceof GoJSONNumber) return typeError(goKind(x), goType, struct, path);
      for (const [, e] of x.members) {
        if (e === null) continue;
        if (kind === 'map' && typeof e !== 'string') typeError(goKind(e), 'string', struct, path);
        if (kind === 'set' && (typeof e !== 'object' || Array.isArray(e) || e instanceof GoJSONNumber)) typeError(goKind(e), 'struct {}', struct, path);
      }
      return;
    }
    object(kind, goType, x, struct, path);
  };
  const object = (t: string, goType: string, x: GoJSON, parent: string | undefined, path: string[]): void => {
    if (x === null) return;
    if (typeof x !== 'object' || Array.isArray(x) || x instanceof GoJSONNumber) return typeError(goKind(x), goType, parent, path);
    const fields = IMAGE_TYPES[t]!;
    for (const [k, e, raw] of x.members) {
      const f = fields.find((f) => f[0] === k) ?? fields.find((f) => f[0].toLowerCase() === k.toLowerCase());
      if (!f) continue;
      value(f[1], f[2], e, raw, t, [...path, f[0]]);
      if (t === 'Image' && (f[0] === 'os' || f[0] === 'architecture') && typeof e === 'string') out[f[0]] = e;
    }
  };
  object('Image', 'v1.Image', v, undefined, []);
  if (first !== undefined) throw new ErrCorruptValue(first);
  return out;
}

/** images.Platforms, formatted and de-duplicated and sorted as ctr images ls prints them. */
export function imagePlatforms(read: BlobReader, target: Descriptor): { platforms: string[]; error?: Error } {
  const specs: Platform[] = [];
  let error: Error | undefined;
  try {
    walk((d) => {
      if (d.platform) {
        specs.push(d.platform);
        return SKIP;
      }
      if (d.mediaType === MT_DOCKER_CONFIG || d.mediaType === MT_OCI_CONFIG) {
        const c = decodeImageConfig(read(d));
        specs.push(normalizePlatform({ os: c.os, architecture: c.architecture }));
      }
      return children(read, d);
    }, [target as OciDescriptor]);
  } catch (e) {
    error = typedOnly(e);
  }
  if (error) return { platforms: [], error };
  return { platforms: [...new Set(specs.map(formatPlatform))].sort() };
}
