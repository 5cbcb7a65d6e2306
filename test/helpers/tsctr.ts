// tsctr in process, and the comparisons of its output with real ctr's that the tests share.
import assert from 'node:assert/strict';
import path from 'node:path';
import { main } from '../../src/cli/tsctr.js';
import { startContainerd } from './containerd.js';

export interface TsctrRun {
  code: number;
  out: string;
  err: string;
}

export interface TsctrInput {
  /** What write commands read (content ingest, images import -). */
  stdin?: NodeJS.ReadableStream | AsyncIterable<Uint8Array>;
  /** stderr is a terminal (progress bars are drawn). */
  isTTY?: boolean;
}

/** Runs tsctr's main() with an empty environment; stdout and stderr collected apart. */
export async function runTsctr(argv: string[], input: TsctrInput = {}): Promise<TsctrRun> {
  let out = '';
  let err = '';
  const stderr = { write: (s: string) => (err += s), ...(input.isTTY ? { isTTY: true } : {}) };
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr, ...(input.stdin ? { stdin: input.stdin } : {}) }, {});
  return { code, out, err };
}

/**
 * `content ls` rows as they compare between runs and between ctr and tsctr: AGE (column 3) dropped, as it
 * depends on when the command runs, and LABELS sorted, as ctr 1.6 prints a Go map (random order).
 */
export function contentLsRows(s: string): string[] {
  return s.split('\n').map((l) =>
    l
      .split('\t')
      .filter((c) => c !== '')
      .filter((_, i) => i !== 2)
      .map((c, i) => (i === 2 ? c.split(',').sort().join(',') : c))
      .join('|'),
  );
}

/**
 * Runs each command through tsctr on `dir`/root (each must exit 0), then starts containerd on `dir` and
 * asserts ctr prints the same for each (content listings by contentLsRows). Returns tsctr's outputs, by
 * the command's words joined with spaces.
 */
export async function assertCtrPrintsAsTsctr(dir: string, cmds: string[][]): Promise<Map<string, string>> {
  const root = path.join(dir, 'root');
  const offline = new Map<string, string>();
  for (const argv of cmds) {
    const r = await runTsctr(['--root', root, ...argv]);
    assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
    offline.set(argv.join(' '), r.out);
  }
  const c = await startContainerd(dir);
  try {
    for (const argv of cmds) {
      const r = await c.ctr(argv);
      assert.equal(r.code, 0, `ctr ${argv.join(' ')}: ${r.stderr}`);
      const want = offline.get(argv.join(' '))!;
      if (argv.includes('content') && !argv.includes('-q')) assert.deepEqual(contentLsRows(r.stdout), contentLsRows(want), `ctr ${argv.join(' ')}`);
      else assert.equal(r.stdout, want, `ctr ${argv.join(' ')}`);
    }
  } finally {
    await c.stop();
  }
  return offline;
}
