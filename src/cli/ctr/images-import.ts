// tsctr images import: ctr 1.6's `images import [flags] <in>` on a stopped containerd root
// (cmd/ctr/commands/images/import.go). The archive (a file, or "-" for stdin) is read once; its blobs go
// into the content store, then blob records and images into meta.db in one bolt transaction
// (src/metadata/import.ts). meta.db is opened first, with a short lock timeout, so the command
// refuses before writing anything while containerd runs.
//
// Flags as ctr's: --base-name, --digests, --skip-digest-for-named, --index-name, --all-platforms,
// --platform, --no-unpack, --compress-blobs, --snapshotter. Offline nothing is unpacked: ctr prints
// "unpacking <name> (<digest>)...done" per image after unpacking into the snapshotter; we print
// nothing on stdout and say once on stderr that the images are not unpacked (containerd unpacks an
// image when `ctr run` or `ctr containers create` first uses it). --compress-blobs is refused: Go's
// gzip output cannot be reproduced here, so the compressed layer's digest would not be containerd's.
import { createReadStream, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openContentStore } from '../../content/index.js';
import type { Image } from '../../metadata/index.js';
import { ErrImportArchive } from '../../metadata/errors.js';
import { importImages, type ImportOptions } from '../../metadata/import.js';
import { refTranslator, digestTranslator } from '../../metadata/reference.js';
import { allPlatforms, defaultPlatform, onlyPlatform, onlyStrictPlatform, parsePlatform } from '../../metadata/platforms.js';
import { progressBar, type ProgressOut } from '../format/progress.js';
import { CONTENT_DIR, META_DB, withRootWriteAsync } from './root.js';
import { CtrCommandError } from './repair.js';
import { eachLeadingFlag } from './flags.js';

export interface ImagesImportIO {
  stdout: { write(s: string): unknown };
  stderr: ProgressOut;
  stdin?: NodeJS.ReadableStream | AsyncIterable<Uint8Array>;
}

const BOOL_FLAGS = new Set(['digests', 'skip-digest-for-named', 'all-platforms', 'no-unpack', 'compress-blobs']);
const VALUE_FLAGS = new Set(['base-name', 'index-name', 'platform', 'snapshotter']);

export interface ImportFlags {
  bools: Set<string>;
  values: Map<string, string>;
  args: string[];
}

/** urfave/cli (Go flag) parsing: flags up to the first positional argument or "--". */
export function parseImportFlags(argv: string[]): ImportFlags {
  const out: ImportFlags = { bools: new Set(), values: new Map(), args: [] };
  out.args = eachLeadingFlag(argv, (a, next) => {
    const m = /^--?([^=]+)(?:=(.*))?$/s.exec(a);
    const name = m?.[1] ?? a;
    if (BOOL_FLAGS.has(name)) {
      const v = m?.[2];
      if (v === undefined || v === 'true' || v === '1') out.bools.add(name);
      else if (v !== 'false' && v !== '0') throw new CtrCommandError(`invalid boolean value ${JSON.stringify(v)} for -${name}: parse error`);
      return;
    }
    if (VALUE_FLAGS.has(name)) {
      const v = m?.[2] ?? next();
      if (v === undefined) throw new CtrCommandError(`flag needs an argument: -${name}`);
      out.values.set(name, v);
      return;
    }
    throw new CtrCommandError(`flag provided but not defined: -${name}`);
  });
  return out;
}

/** time.Now().Format("2006-01-02") in the local zone. */
function localDate(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}`;
}

/** The options ctr's Action builds from its flags. */
export function importOptions(f: ImportFlags, now = new Date()): ImportOptions {
  const base = f.values.get('base-name') ?? '';
  const prefix = base === '' ? `import-${localDate(now)}` : base;
  const opts: ImportOptions = { imageRefT: refTranslator(prefix, base !== ''), platform: onlyPlatform(defaultPlatform()) };
  if (f.bools.has('digests')) opts.dgstRefT = digestTranslator(prefix);
  if (f.bools.has('skip-digest-for-named')) {
    if (!f.bools.has('digests')) throw new CtrCommandError('--skip-digest-for-named must be specified with --digests option');
    opts.skipDgstRef = (name) => name !== '';
  }
  const indexName = f.values.get('index-name') ?? '';
  if (indexName !== '') opts.indexName = indexName;
  if (f.bools.has('compress-blobs')) {
    throw new ErrImportArchive('option', '--compress-blobs is not supported offline (the gzip bytes would differ from containerd\'s): import without it, or with ctr');
  }
  const platform = f.values.get('platform') ?? '';
  if (platform !== '') {
    try {
      opts.platform = onlyStrictPlatform(parsePlatform(platform));
    } catch (e) {
      throw new CtrCommandError((e as Error).message, { cause: e });
    }
  }
  if (f.bools.has('all-platforms')) opts.platform = allPlatforms;
  return opts;
}

/** Go's os.Open error text for a path Node could not open. */
function openError(path: string, e: unknown): CtrCommandError {
  const code = (e as { code?: string }).code;
  const text = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
  return new CtrCommandError(`open ${path}: ${text}`, { cause: e });
}

/** Runs the command; returns the images written. */
export async function imagesImport(root: string, namespace: string, argv: string[], io: ImagesImportIO): Promise<Image[]> {
  const f = parseImportFlags(argv);
  const opts = importOptions(f);
  const input = f.args[0] ?? '';
  // An empty root: containerd's metadata plugin makes its directory (0711) before opening meta.db.
  mkdirSync(dirname(join(root, META_DB)), { recursive: true, mode: 0o711 });
  return withRootWriteAsync(root, async (meta) => {
    let source: AsyncIterable<Uint8Array>;
    let total: number | undefined;
    if (input === '-') source = (io.stdin ?? process.stdin) as AsyncIterable<Uint8Array>;
    else {
      try {
        const st = statSync(input);
        if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
        total = st.size;
      } catch (e) {
        throw openError(input, e);
      }
      source = createReadStream(input, { highWaterMark: 1 << 20 });
    }
    const store = await openContentStore(join(root, CONTENT_DIR));
    const bar = progressBar(io.stderr, { label: 'importing' });
    let res;
    try {
      res = await importImages(meta, store, namespace, source, { ...opts, onBytes: (n) => bar(n, total) });
    } finally {
      bar.done();
    }
    if (!f.bools.has('no-unpack') && res.images.length > 0) {
      io.stderr.write(`tsctr: ${res.images.length === 1 ? 'the image is' : `${res.images.length} images are`} not unpacked offline (containerd unpacks on first use: ctr run, ctr containers create)\n`);
    }
    return res.images;
  });
}
