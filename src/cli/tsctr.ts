// tsctr: prints what ctr 1.6 prints for the read-only listing commands, reading a containerd root
// directory directly (meta.db, the snapshotters' metadata.db, the content store) with no daemon.
// Listings write nothing under the root: every database is opened read-only. Write commands
// (content ingest) open meta.db read-write with a short lock timeout and refuse while containerd runs.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  adaptContainer,
  adaptContent,
  adaptImage,
  adaptLease,
  adaptSandbox,
  formatRFC3339,
  parseFilters,
  SnapshotterDB,
  ErrNotFound,
  ErrCorruptValue,
  type Any,
  type BackendSnapshot,
  type Container,
  type GoTime,
  type MetadataDB,
  type SnapshotRef,
} from '../metadata/index.js';
import { GoObject, marshalIndent, type GoValue } from '../metadata/gojson.js';
import { remarshalSpec, SpecDecodeError } from '../metadata/ocispec.js';
import { imagePlatforms, imageSize } from '../metadata/imagewalk.js';
import { defaultPlatform, onlyPlatform } from '../metadata/platforms.js';
import { humanDuration, humanSize, progressBytes } from './format/units.js';
import { TabWriter } from './format/tabwriter.js';
import { logrusLine } from './format/logrus.js';
import { BoltError } from '../bolt/index.js';
import { goTimeStringUTC } from './format/gotime.js';
import { CtrCommandError, CtrUsageError } from './format/errors.js';
import { contentIngest } from './ctr/content-ingest.js';
import { runRepair } from './ctr/repair.js';
import { doctorCmd } from './ctr/doctor.js';
import { openSalvagedMetadata } from './ctr/salvaged.js';
import { imagesImport } from './ctr/images-import.js';
import { collectGarbage, gcWarnings, runGC } from './ctr/gc.js';
import { snapshotsWhich } from './ctr/which.js';
import { namespaceBlobReader } from '../metadata/which.js';
import { CONTENT_DIR, META_DB, closeAfter, closeAfterAsync, openRootForRead } from './ctr/root.js';
import { ContentError, ContentNotFoundError, ingestKey, readStatus } from '../content/index.js';
import { eachLeadingFlag } from './ctr/flags.js';
import { parseCommandLine } from './ctr/usage.js';
import { CTR_LEAVES } from './ctr/ctr-help.js';

export interface IO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  /** What write commands read (content ingest); process.stdin when absent. */
  stdin?: NodeJS.ReadableStream | AsyncIterable<Uint8Array>;
}

/** Engine errors that mean a damaged file (the hint to use --salvage). */
const DAMAGE_CODES = new Set(['ERR_CORRUPTION', 'ERR_INVALID', 'ERR_CHECKSUM', 'ERR_VERSION_MISMATCH', 'ERR_FILE_TOO_SMALL']);


interface Ctx {
  root: string;
  namespace: string;
  io: IO;
  env: NodeJS.ProcessEnv;
  /** --salvage: read meta.db through the salvage path (ctr/salvaged.ts). */
  salvage?: boolean;
  /** The command's words as the user typed them (aliases kept), for messages. */
  words?: string[];
}

interface SubArgs {
  quiet: boolean;
  json: boolean;
  args: string[];
  flags: Map<string, string>;
}

/** Splits urfave/cli style flags (before the first positional argument) from positionals. */
function parseSub(argv: string[], valueFlags: string[] = []): SubArgs {
  const out: SubArgs = { quiet: false, json: false, args: [], flags: new Map() };
  out.args = eachLeadingFlag(argv, (a, next) => {
    const [name, inline] = a.replace(/^--?/, '').split(/=(.*)/s, 2) as [string, string | undefined];
    if (name === 'q' || name === 'quiet') out.quiet = true;
    else if (name === 'json') out.json = true;
    else if (valueFlags.includes(name)) {
      const v = inline ?? next();
      if (v === undefined) throw new CtrUsageError(`flag needs an argument: -${name}`);
      out.flags.set(name, v);
    } else throw new CtrUsageError(`flag provided but not defined: -${name}`);
  });
  return out;
}

function openMeta(ctx: Ctx): MetadataDB {
  return ctx.salvage ? openSalvagedMetadata(join(ctx.root, META_DB), ctx.io) : openRootForRead(ctx.root);
}

function withMeta<T>(ctx: Ctx, fn: (m: MetadataDB) => T): T {
  return closeAfter(openMeta(ctx), fn);
}

/**
 * ctr's `fmt.Errorf(prefix+"%w", err)` around a listing a damaged record fails ("failed to list
 * images: ..."); main() then adds the ": unknown" that errdefs.FromGRPC gives an error containerd
 * returned without a class.
 */
function ctrWrap<T>(prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ErrCorruptValue) throw new ErrCorruptValue(prefix + e.message, { cause: e });
    throw e;
  }
}

async function withMetaAsync<T>(ctx: Ctx, fn: (m: MetadataDB) => Promise<T>): Promise<T> {
  return closeAfterAsync(openMeta(ctx), fn);
}

function sortedPairs(m: Record<string, string> | undefined): string[] {
  return Object.entries(m ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .sort();
}

function timeJSON(t: GoTime): string {
  return formatRFC3339(t, true);
}

/** Local zone offset in seconds east of UTC at a given time (Go's time.Local). */
function localOffset(t: GoTime): number {
  return -new Date(t.unix * 1000).getTimezoneOffset() * 60;
}

function printJSON(ctx: Ctx, v: unknown): void {
  ctx.io.stdout.write(JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? Buffer.from(x).toString('base64') : isGoTime(x) ? timeJSON(x) : x), 2) + '\n');
}

function isGoTime(x: unknown): x is GoTime {
  return typeof x === 'object' && x !== null && 'unix' in x && 'nanos' in x && Object.keys(x).length <= 3;
}

// ---- commands -----------------------------------------------------------------------------------

function namespacesLs(ctx: Ctx, argv: string[]): number {
  const a = parseSub(argv);
  const nss = withMeta(ctx, (m) => m.namespaces());
  if (a.json) return printJSON(ctx, nss), 0;
  if (a.quiet) {
    for (const ns of nss) ctx.io.stdout.write(ns.name + '\n');
    return 0;
  }
  const tw = new TabWriter(1, 8, 1, ' ');
  tw.write('NAME\tLABELS\t\n');
  for (const ns of nss) tw.write(`${ns.name}\t${sortedPairs(ns.labels).join(',')}\t\n`);
  ctx.io.stdout.write(tw.flush());
  return 0;
}

function imagesTable(ctx: Ctx, m: MetadataDB, ns: string, filters: string[]): string {
  const f = parseFilters(...filters);
  const imgs = ctrWrap('failed to list images: ', () => m.images(ns)).filter((i) => f.match(adaptImage(i)));
  const read = namespaceBlobReader(ctx.root, m, ns);
  const platform = onlyPlatform(defaultPlatform());
  const tw = new TabWriter(1, 8, 1, ' ');
  tw.write('REF\tTYPE\tDIGEST\tSIZE\tPLATFORMS\tLABELS\t\n');
  for (const img of imgs) {
    const { size, error } = imageSize(read, img.target, platform);
    // ctr: log.G(ctx).WithError(err).Errorf(...), a logrus line before the table.
    if (error) ctx.io.stderr.write(logrusLine('error', `failed calculating size for image ${img.name}`, error.message));
    const p = imagePlatforms(read, img.target);
    if (p.error) ctx.io.stderr.write(logrusLine('error', `failed resolving platform for image ${img.name}`, p.error.message));
    const platforms = p.platforms.length > 0 ? p.platforms.join(',') : '-';
    const labels = sortedPairs(img.labels);
    tw.write(`${img.name}\t${img.target.mediaType}\t${img.target.digest}\t${progressBytes(size)}\t${platforms}\t${labels.length > 0 ? labels.join(',') : '-'}\t\n`);
  }
  return tw.flush();
}

function imagesLs(ctx: Ctx, argv: string[]): number {
  const a = parseSub(argv);
  return withMeta(ctx, (m) => {
    if (a.json || a.quiet) {
      const f = parseFilters(...a.args);
      const imgs = ctrWrap('failed to list images: ', () => m.images(ctx.namespace)).filter((i) => f.match(adaptImage(i)));
      if (a.json) printJSON(ctx, imgs);
      else for (const i of imgs) ctx.io.stdout.write(i.name + '\n');
      return 0;
    }
    ctx.io.stdout.write(imagesTable(ctx, m, ctx.namespace, a.args));
    return 0;
  });
}

function containersTable(m: MetadataDB, ns: string, filters: string[]): string {
  const f = parseFilters(...filters);
  const tw = new TabWriter(4, 8, 4, ' ');
  tw.write('CONTAINER\tIMAGE\tRUNTIME\t\n');
  for (const c of m.containers(ns).filter((c) => f.match(adaptContainer(c)))) {
    tw.write(`${c.id}\t${c.image === '' ? '-' : c.image}\t${c.runtime.name}\t\n`);
  }
  return tw.flush();
}

function containersLs(ctx: Ctx, argv: string[]): number {
  const a = parseSub(argv);
  return withMeta(ctx, (m) => {
    if (a.json || a.quiet) {
      const f = parseFilters(...a.args);
      const cs = m.containers(ctx.namespace).filter((c) => f.match(adaptContainer(c)));
      if (a.json) printJSON(ctx, cs);
      else for (const c of cs) ctx.io.stdout.write(c.id + '\n');
      return 0;
    }
    ctx.io.stdout.write(containersTable(m, ctx.namespace, a.args));
    return 0;
  });
}

function anyJSON(a: Any | undefined): GoValue {
  if (!a) return null;
  const e: [string, GoValue][] = [];
  if (a.typeUrl) e.push(['type_url', a.typeUrl]);
  if (a.value.length > 0) e.push(['value', Buffer.from(a.value).toString('base64')]);
  return new GoObject(e);
}

/**
 * The spec as ctr prints it: decoded into Go's specs.Spec and marshalled back (ocispec.ts). Where Go refuses the
 * JSON, ctr fails with Go's error (typeurl.UnmarshalAny), and so does this.
 */
function specJSON(text: string): GoValue {
  try {
    return remarshalSpec(text);
  } catch (e) {
    if (e instanceof SpecDecodeError) throw new CtrCommandError(e.message, { cause: e });
    throw e;
  }
}

/** The Go value ctr's `containers info` marshals: containers.Container (+ the decoded spec). */
function containerInfoJSON(c: Container, specOnly: boolean): GoValue {
  const labels = c.labels && Object.keys(c.labels).length > 0 ? GoObject.fromMap(c.labels) : null;
  const ext = c.extensions && Object.keys(c.extensions).length > 0 ? GoObject.fromMap(Object.fromEntries(Object.entries(c.extensions).map(([k, v]) => [k, anyJSON(v)]))) : null;
  const spec = c.spec && c.spec.value.length > 0 ? specJSON(Buffer.from(c.spec.value).toString('utf8')) : undefined;
  if (specOnly) return spec ?? null;
  const entries: [string, GoValue][] = [
    ['ID', c.id],
    ['Labels', labels],
    ['Image', c.image],
    ['Runtime', new GoObject([['Name', c.runtime.name], ['Options', anyJSON(c.runtime.options)]])],
  ];
  if (!spec) entries.push(['Spec', anyJSON(c.spec)]);
  entries.push(
    ['SnapshotKey', c.snapshotKey],
    ['Snapshotter', c.snapshotter],
    ['CreatedAt', formatRFC3339(c.createdAt, true, 0)],
    ['UpdatedAt', formatRFC3339(c.updatedAt, true, 0)],
    ['Extensions', ext],
  );
  if (spec) entries.push(['Spec', spec]);
  return new GoObject(entries);
}

function containersInfo(ctx: Ctx, argv: string[]): number {
  const specOnly = argv.includes('--spec');
  const a = parseSub(argv.filter((x) => x !== '--spec'));
  const id = a.args[0];
  if (!id) throw new CtrCommandError('container id must be provided: invalid argument');
  return withMeta(ctx, (m) => {
    const c = m.container(ctx.namespace, id);
    if (a.json) printJSON(ctx, c);
    else ctx.io.stdout.write(marshalIndent(containerInfoJSON(c, specOnly)) + '\n');
    return 0;
  });
}

function contentLs(ctx: Ctx, argv: string[], now: number): number {
  const a = parseSub(argv);
  return withMeta(ctx, (m) => {
    const f = parseFilters(...a.args);
    const tw = new TabWriter(1, 8, 1, '\t');
    tw.write('DIGEST\tSIZE\tAGE\tLABELS\n');
    let infos;
    try {
      infos = m.content(ctx.namespace).filter((c) => f.match(adaptContent(c)));
    } catch (e) {
      // ctr writes the header and defers the flush before it walks, so a failed walk still prints it.
      if (!a.json && !a.quiet) ctx.io.stdout.write(tw.flush());
      throw e;
    }
    if (a.json) return printJSON(ctx, infos), 0;
    if (a.quiet) {
      for (const c of infos) ctx.io.stdout.write(c.digest + '\n');
      return 0;
    }
    for (const c of infos) {
      const labels = Object.entries(c.labels ?? {}).map(([k, v]) => `${k}=${v}`);
      const age = humanDuration(now - (c.createdAt.unix * 1000 + c.createdAt.nanos / 1e6));
      tw.write(`${c.digest}\t${humanSize(c.size)}\t${age}\t${labels.length > 0 ? labels.join(',') : '-'}\n`);
    }
    ctx.io.stdout.write(tw.flush());
    return 0;
  });
}

interface ActiveStatus {
  ref: string;
  offset: number;
  startedAt: GoTime;
  updatedAt: GoTime;
  total: number;
}

const goTime = (d: Date): GoTime => ({ unix: Math.floor(d.getTime() / 1000), nanos: (((d.getTime() % 1000) + 1000) % 1000) * 1e6 });

/**
 * ctr content active [FILTER]: the namespace's ingest records, each with its status read from the
 * content store (store.status: data, ref, startedat, updatedat); an ingest one of those files is
 * missing from is skipped, a timestamp that does not parse fails the listing with containerd's
 * text. ctr hands its argument to ListStatuses as a filter (its usage says <regexp>): `ref~=x`
 * matches refs, a bare word names a field no status has and matches nothing.
 */
function contentActive(ctx: Ctx, argv: string[], now: number): number {
  const a = parseSub(argv, ['timeout', 't', 'root']);
  const match = a.args[0];
  const f = parseFilters(...(match === undefined ? [] : [match]));
  return withMeta(ctx, (m) => {
    const statuses: ActiveStatus[] = [];
    for (const ing of m.ingests(ctx.namespace)) {
      let st;
      try {
        st = readStatus(join(ctx.root, CONTENT_DIR, 'ingest', ingestKey(ing.backendRef)));
      } catch (e) {
        if (e instanceof ContentNotFoundError) continue;
        // The content service returns it with no errdefs class: ": unknown" at ctr.
        if (e instanceof ContentError) throw new CtrCommandError(`${e.message}: unknown`, { cause: e });
        throw e;
      }
      const s: ActiveStatus = { ref: ing.ref, offset: st.offset, startedAt: goTime(st.startedAt), updatedAt: goTime(st.updatedAt), total: st.total };
      if (f.match((fp) => (fp[0] === 'ref' ? [s.ref, true] : ['', false]))) statuses.push(s);
    }
    if (a.json) return printJSON(ctx, statuses), 0;
    const tw = new TabWriter(1, 8, 1, '\t');
    tw.write('REF\tSIZE\tAGE\t\n');
    for (const s of statuses) {
      tw.write(`${s.ref}\t${humanSize(s.offset)}\t${humanDuration(now - (s.startedAt.unix * 1000 + s.startedAt.nanos / 1e6))}\t\n`);
    }
    ctx.io.stdout.write(tw.flush());
    return 0;
  });
}

interface SnapshotInfo {
  kind: string;
  name: string;
  parent: string;
  labels?: Record<string, string>;
  created: GoTime;
  updated: GoTime;
}

/** The metadata snapshotter's Walk: meta.db records overlaid on the backend's info (kind, labels). */
function snapshotterBackend(ctx: Ctx, snapshotter: string): string {
  const path = join(ctx.root, `io.containerd.snapshotter.v1.${snapshotter}`, 'metadata.db');
  if (!existsSync(path)) throw new CtrCommandError(`snapshotter not loaded: ${snapshotter}: invalid argument`);
  return path;
}

/** A meta.db record with its backend snapshot's kind, labels merged as the metadata snapshotter's Stat merges them. */
function snapshotInfo(r: SnapshotRef, b: BackendSnapshot): SnapshotInfo {
  const labels = b.labels ? { ...b.labels, ...(r.labels ?? {}) } : r.labels;
  // The snapshots service sends a kind over gRPC as Active, View or else Committed (fromKind), so a
  // kind byte the backend does not know reaches ctr as Committed.
  const kind = b.kind === 'Active' || b.kind === 'View' ? b.kind : 'Committed';
  const info: SnapshotInfo = { kind, name: r.key, parent: r.parent, created: r.createdAt, updated: r.updatedAt };
  if (labels) info.labels = labels;
  return info;
}

/**
 * The metadata snapshotter's Walk: every record of meta.db, each with its backend snapshot read by
 * a Stat of its own (so a damaged backend record fails only the listing that reaches it).
 */
function snapshotInfos(ctx: Ctx, m: MetadataDB, snapshotter: string): SnapshotInfo[] {
  const refs = m.snapshots(ctx.namespace, snapshotter);
  const sdb = SnapshotterDB.open(snapshotterBackend(ctx, snapshotter), { readOnly: true });
  const out: SnapshotInfo[] = [];
  try {
    for (const r of refs) {
      let b: BackendSnapshot;
      try {
        b = sdb.stat(r.name);
      } catch (e) {
        if (e instanceof ErrNotFound) continue; // not found in the backend: skipped, as containerd's Walk does
        throw e;
      }
      out.push(snapshotInfo(r, b));
    }
  } finally {
    sdb.close();
  }
  return out;
}

/** The metadata snapshotter's Stat: the one record, then its backend snapshot (containerd's not-found texts). */
function statSnapshot(ctx: Ctx, m: MetadataDB, snapshotter: string, key: string): SnapshotInfo {
  const path = snapshotterBackend(ctx, snapshotter);
  const r = m.snapshot(ctx.namespace, snapshotter, key);
  if (!r) throw new ErrNotFound(`snapshot ${key} does not exist: not found`);
  const sdb = SnapshotterDB.open(path, { readOnly: true });
  try {
    return snapshotInfo(r, sdb.stat(r.name));
  } finally {
    sdb.close();
  }
}

function snapshots(ctx: Ctx, argv: string[]): number {
  let snapshotter = ctx.env.CONTAINERD_SNAPSHOTTER || 'overlayfs';
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
    const a = argv[i]!;
    const mm = /^--?snapshotter(?:=(.*))?$/s.exec(a);
    if (!mm) throw new CtrUsageError(`flag provided but not defined: ${a}`);
    const v = mm[1] ?? argv[++i];
    if (v === undefined) throw new CtrUsageError('flag needs an argument: -snapshotter');
    snapshotter = v || 'overlayfs'; // ctr: an empty value stands for the default
  }
  const sub = argv[i];
  const rest = argv.slice(i + 1);
  const a = parseSub(rest);
  if (sub === 'which') return withMeta(ctx, (m) => snapshotsWhich(ctx.root, ctx.namespace, snapshotter, a.args[0], a.json, m, ctx.io));
  // ctr: anything but one key shows the command's help
  if (sub === 'info' && a.args.length !== 1) return ctx.io.stdout.write(CTR_LEAVES['snapshots info']!.help), 0;
  return withMeta(ctx, (m) => {
    if (sub === 'info') {
      const s = statSnapshot(ctx, m, snapshotter, a.args[0]!);
      const e: [string, GoValue][] = [['Kind', s.kind], ['Name', s.name]];
      if (s.parent) e.push(['Parent', s.parent]);
      if (s.labels && Object.keys(s.labels).length > 0) e.push(['Labels', GoObject.fromMap(s.labels)]);
      e.push(['Created', formatRFC3339(s.created, true, 0)], ['Updated', formatRFC3339(s.updated, true, 0)]);
      ctx.io.stdout.write(marshalIndent(new GoObject(e)) + '\n');
      return 0;
    }
    const infos = snapshotInfos(ctx, m, snapshotter);
    switch (sub) {
      case 'ls':
      case 'list': {
        if (a.json) return printJSON(ctx, infos), 0;
        const tw = new TabWriter(1, 8, 1, ' ');
        tw.write('KEY\tPARENT\tKIND\t\n');
        for (const s of infos) tw.write(`${s.name}\t${s.parent}\t${s.kind}\t\n`);
        ctx.io.stdout.write(tw.flush());
        return 0;
      }
      case 'tree': {
        interface Node {
          info: SnapshotInfo;
          children: string[];
        }
        const nodes: Node[] = [];
        const index = new Map<string, Node>();
        const add = (info: SnapshotInfo): Node => {
          let n = index.get(info.name);
          if (!n) {
            n = { info, children: [] };
            nodes.push(n);
            index.set(info.name, n);
          } else n.info = info;
          if (info.parent) {
            const p = index.get(info.parent) ?? add({ kind: '', name: info.parent, parent: '', created: info.created, updated: info.updated });
            p.children.push(info.name);
          }
          return n;
        };
        for (const s of infos) add(s);
        const print = (name: string, level: number): void => {
          const n = index.get(name)!;
          const prefix = '  '.repeat(level) + (level > 0 ? '\\_' : '');
          ctx.io.stdout.write(`${prefix} ${n.info.name}\n`);
          for (const c of n.children) print(c, level + 1);
        };
        for (const n of nodes) if (!n.info.parent) print(n.info.name, 0);
        return 0;
      }
    }
    throw new CtrUsageError(`snapshots: unknown command ${sub ?? ''}`);
  });
}

function leasesLs(ctx: Ctx, argv: string[]): number {
  const a = parseSub(argv);
  return withMeta(ctx, (m) => {
    const f = parseFilters(...a.args);
    const ls = ctrWrap('failed to list leases: ', () => m.leases(ctx.namespace)).filter((l) => f.match(adaptLease(l)));
    if (a.json) return printJSON(ctx, ls), 0;
    if (a.quiet) {
      for (const l of ls) ctx.io.stdout.write(l.id + '\n');
      return 0;
    }
    const tw = new TabWriter(1, 8, 1, ' ');
    tw.write('ID\tCREATED AT\tLABELS\t\n');
    for (const l of ls) {
      const labels = sortedPairs(l.labels);
      tw.write(`${l.id}\t${formatRFC3339(l.createdAt, false, localOffset(l.createdAt))}\t${labels.length > 0 ? labels.join(',') : '-'}\t\n`);
    }
    ctx.io.stdout.write(tw.flush());
    return 0;
  });
}

/**
 * sandboxes ls [--filters F]... : ctr 1.7's command (1.6 has none), for 1.7 files (sandboxes in the top-level
 * <ns>/sandboxes) and 2.x files (v1/<ns>/sandboxes): ID, CREATED (Go's time.String of the UTC time gRPC
 * delivers) and RUNTIME, tabwriter (1, 8, 1, ' ').
 */
function sandboxesLs(ctx: Ctx, argv: string[]): number {
  const filters: string[] = [];
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--?filters(?:=(.*))?$/s.exec(a);
    if (m) {
      const v = m[1] ?? argv[++i];
      if (v === undefined) throw new CtrUsageError('flag needs an argument: -filters');
      filters.push(v);
    } else if (a === '--json' || a === '-json') json = true;
    else throw new CtrUsageError(a.startsWith('-') ? `flag provided but not defined: ${a}` : `sandboxes ls takes no arguments (use --filters): ${a}`);
  }
  return withMeta(ctx, (m) => {
    let f;
    try {
      f = parseFilters(...filters);
    } catch (e) {
      throw new CtrCommandError(`failed to list sandboxes: ${(e as Error).message}: invalid argument`, { cause: e });
    }
    const list = m.sandboxes(ctx.namespace).filter((s) => f.match(adaptSandbox(s)));
    if (json) return printJSON(ctx, list), 0;
    const tw = new TabWriter(1, 8, 1, ' ');
    tw.write('ID\tCREATED\tRUNTIME\t\n');
    for (const s of list) tw.write(`${s.id}\t${goTimeStringUTC(s.createdAt)}\t${s.runtime.name}\t\n`);
    ctx.io.stdout.write(tw.flush());
    return 0;
  });
}

/** Not a ctr command: every namespace with its images and containers tables. */
function overview(ctx: Ctx): number {
  return withMeta(ctx, (m) => {
    const nss = m.namespaces();
    nss.forEach((ns, i) => {
      if (i > 0) ctx.io.stdout.write('\n');
      ctx.io.stdout.write(`== namespace ${ns.name} ==\n\n`);
      ctx.io.stdout.write(imagesTable(ctx, m, ns.name, []));
      ctx.io.stdout.write('\n');
      ctx.io.stdout.write(containersTable(m, ns.name, []));
    });
    return 0;
  });
}

/** content ingest [--expected-size N] [--expected-digest D] REF: the blob from stdin (a write command). */
async function contentIngestCmd(ctx: Ctx, argv: string[]): Promise<number> {
  const a = parseSub(argv, ['expected-size', 'expected-digest']);
  const size = a.flags.get('expected-size');
  if (size !== undefined && !/^\d+$/.test(size)) throw new CtrUsageError(`invalid value ${JSON.stringify(size)} for flag -expected-size: parse error`);
  await contentIngest({
    root: ctx.root,
    namespace: ctx.namespace,
    ref: a.args[0] ?? '',
    ...(size !== undefined ? { expectedSize: Number(size) } : {}),
    ...(a.flags.has('expected-digest') ? { expectedDigest: a.flags.get('expected-digest')! } : {}),
    stdin: (ctx.io.stdin ?? process.stdin) as AsyncIterable<Uint8Array>,
    stderr: ctx.io.stderr,
  });
  return 0; // ctr prints nothing on success
}

function dispatch(ctx: Ctx, cmd: string, sub: string | undefined, rest: string[]): number | Promise<number> {
  const now = Date.now();
  const isLs = sub === 'ls' || sub === 'list';
  if (ctx.salvage) {
    // snapshots takes its --snapshotter flag before the verb
    const words = [sub, ...rest].filter((w): w is string => w !== undefined);
    const verb = cmd.startsWith('snapshot') ? words.find((w, i) => !w.startsWith('-') && !/^--?snapshotter$/.test(words[i - 1] ?? '')) : sub;
    if (!(cmd === 'overview' || cmd === 'doctor' || cmd === 'help' || ['ls', 'list', 'info', 'tree', 'which', 'active'].includes(verb ?? ''))) {
      throw new CtrUsageError(`--salvage only reads: ${(ctx.words ?? [cmd, verb]).filter(Boolean).join(' ')} is not a listing`);
    }
  }
  // --sync (images rm, leases rm): ctr waits for containerd's collection after a removal; offline it runs here, quietly as in ctr
  const repaired = runRepair(ctx.root, ctx.namespace, cmd, sub, rest, ctx.io, () => void ctx.io.stderr.write(gcWarnings(collectGarbage(ctx.root))));
  if (repaired !== undefined) return repaired;
  const collected = runGC(ctx.root, ctx.namespace, cmd, sub === undefined ? rest : [sub, ...rest], ctx.io, ctx.env);
  if (collected !== undefined) return collected;
  switch (cmd) {
    case 'namespaces':
    case 'namespace':
    case 'ns':
      if (isLs) return namespacesLs(ctx, rest);
      break;
    case 'images':
    case 'image':
    case 'i':
      if (isLs) return imagesLs(ctx, rest);
      if (sub === 'import') return imagesImport(ctx.root, ctx.namespace, rest, ctx.io).then(() => 0);
      break;
    case 'containers':
    case 'container':
    case 'c':
      if (isLs) return containersLs(ctx, rest);
      if (sub === 'info') return containersInfo(ctx, rest);
      break;
    case 'content':
      if (isLs) return contentLs(ctx, rest, now);
      if (sub === 'active') return contentActive(ctx, rest, now);
      if (sub === 'ingest') return contentIngestCmd(ctx, rest);
      break;
    case 'snapshots':
    case 'snapshot':
      return snapshots(ctx, sub === undefined ? [] : [sub, ...rest]);
    case 'leases':
      if (isLs) return leasesLs(ctx, rest);
      break;
    case 'sandboxes':
    case 'sandbox':
    case 'sb':
    case 's':
      if (isLs) return sandboxesLs(ctx, rest);
      break;
    case 'overview':
      return overview(ctx);
    case 'doctor':
      return withMetaAsync(ctx, (m) => doctorCmd(ctx.root, sub === undefined ? [] : [sub, ...rest], m, ctx.io));
  }
  throw new CtrUsageError(`unknown command: ${[cmd, sub].filter(Boolean).join(' ')}`);
}

export async function main(argv: string[], io: IO = { stdout: process.stdout, stderr: process.stderr }, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const ctx: Ctx = { root: '/var/lib/containerd', namespace: env.CONTAINERD_NAMESPACE || 'default', io, env };
  try {
    // Help and usage errors are answered here, as ctr 1.6 answers them (ctr/usage.ts).
    const inv = parseCommandLine(argv, io);
    if (typeof inv === 'number') return inv;
    if (inv.root !== undefined) ctx.root = inv.root;
    if (inv.namespace !== undefined) ctx.namespace = inv.namespace;
    if (inv.salvage) ctx.salvage = true;
    ctx.words = inv.words;
    return await dispatch(ctx, inv.cmd, inv.sub, inv.rest);
  } catch (e) {
    // Every error we raise on purpose carries a stable code (ours, or Node's for system calls);
    // anything else (a TypeError, a RangeError...) is a bug of ours, and says so.
    const typed = e instanceof Error && typeof (e as { code?: unknown }).code === 'string';
    // A damaged record fails inside containerd, whose error reaches ctr with no errdefs class.
    const msg = e instanceof ErrCorruptValue ? `${e.message}: unknown` : e instanceof Error ? e.message : String(e);
    io.stderr.write(typed ? `ctr: ${msg}\n` : `ctr: internal error: ${msg.split('\n')[0]}\n`);
    if (!ctx.salvage && e instanceof BoltError && DAMAGE_CODES.has(e.code)) io.stderr.write('ctr: a database of the root is damaged; --salvage lists what meta.db still holds\n');
    return e instanceof CtrUsageError ? 2 : 1;
  }
}

/** For the launcher (bin/tsctr.js): a closed stdout ends the process as SIGPIPE ends the Go tool. */
export { endOnClosedStdout } from './format/pipe.js';
