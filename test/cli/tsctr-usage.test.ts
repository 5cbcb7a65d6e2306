// tsctr's help texts and usage errors against what real ctr 1.6.20 printed for the same command lines
// (fixtures/ctr-usage/record.mjs -> expected.json: stdout, stderr, exit status of every case, none needing the
// daemon). tsctr runs each with --root pointing at a directory that does not exist, so a case that reached the
// files would fail. Two texts are tsctr's own by decision (src/cli/README.md): the global help (ctr's lists
// commands tsctr does not have) wherever ctr prints it, and the --version line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTsctr } from '../helpers/tsctr.js';
import { GLOBAL_HELP } from '../../src/cli/ctr/usage.js';
import { CTR_LEAVES, CTR_VERSION } from '../../src/cli/ctr/ctr-help.js';

interface Case {
  argv: string[];
  code: number;
  stdout: string;
  stderr: string;
}

const RECORDED = JSON.parse(fs.readFileSync(fileURLToPath(new URL('../../fixtures/ctr-usage/expected.json', import.meta.url)), 'utf8')) as {
  ctr: string;
  cases: Case[];
};
const NO_ROOT = path.join(os.tmpdir(), `tsctr-usage-no-root-${process.pid}`);
const CTR_GLOBAL_HELP = RECORDED.cases.find((c) => c.argv.length === 1 && c.argv[0] === '--help')!.stdout;
const VERSION = JSON.parse(fs.readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')).version as string;

/** What tsctr must print for a recorded case: ctr's output, with the two texts that are ours by decision swapped in. */
function expected(c: Case): Case {
  return {
    ...c,
    stdout: c.stdout.replace(CTR_GLOBAL_HELP, GLOBAL_HELP).replace(`${CTR_VERSION}\n`, `tsctr ${VERSION} (ctr 1.6.20's commands)\n`),
  };
}

async function run(argv: string[]): Promise<Case> {
  const r = await runTsctr(['--root', NO_ROOT, ...argv]);
  return { argv, code: r.code, stdout: r.out, stderr: r.err };
}

test('Usage_recording_isCtr1620AndCoversEveryImplementedSubcommand', () => {
  assert.equal(RECORDED.ctr, CTR_VERSION);
  assert.match(RECORDED.ctr, / 1\.6\.20/);
  for (const key of Object.keys(CTR_LEAVES)) {
    const argv = [...key.split(' '), '--help'];
    assert.ok(RECORDED.cases.some((c) => c.argv.join(' ') === argv.join(' ')), key);
    assert.ok(RECORDED.cases.some((c) => c.argv.length === 3 && c.argv[2] === '--foo' && `${c.argv[0]} ${c.argv[1]}` === key), key);
  }
  assert.ok(RECORDED.cases.length > 400);
});

test('Usage_everyRecordedCase_tsctrPrintsWhatCtrPrinted', async () => {
  assert.equal(fs.existsSync(NO_ROOT), false);
  const failures: string[] = [];
  for (const c of RECORDED.cases) {
    const got = await run(c.argv);
    try {
      assert.deepEqual(got, expected(c));
    } catch (e) {
      failures.push(`ctr ${c.argv.join(' ')}:\n${(e as Error).message}`);
    }
  }
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${RECORDED.cases.length} cases differ`);
  assert.equal(fs.existsSync(NO_ROOT), false, 'a usage case created the root');
});

test('Usage_globalHelp_isOursAndNamesEveryCommand', async () => {
  for (const argv of [[], ['--help'], ['-h'], ['help'], ['h'], ['help', 'gc']]) {
    assert.deepEqual(await run(argv), { argv, code: 0, stdout: GLOBAL_HELP, stderr: '' });
  }
  for (const cmd of ['namespaces', 'images', 'containers', 'content', 'snapshots', 'leases', 'sandboxes', 'gc', 'doctor', 'overview']) {
    assert.match(GLOBAL_HELP, new RegExp(`^   ${cmd}\\b`, 'm'), cmd);
  }
  assert.match(GLOBAL_HELP, /--root value/);
});

test('Usage_ctrCommandTsctrLacks_refusedClearly', async () => {
  for (const argv of [['tasks', 'ls'], ['images', 'pull', 'docker.io/library/alpine:latest'], ['help', 'run'], ['images', 'help', 'push'], ['content', 'fetch', '--help']]) {
    const r = await run(argv);
    assert.equal(r.code, 1, argv.join(' '));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^ctr: tsctr does not implement "[a-z ]+": it needs a running containerd \(use ctr\)\n$/, argv.join(' '));
  }
});

test('Usage_flagCtrHasButTsctrDoesNot_refusedBeforeTheRootIsOpened', async () => {
  for (const argv of [['namespaces', 'remove', '--cgroup', 'x'], ['ns', 'rm', '-c', 'x']]) {
    const r = await run(argv);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^ctr: namespaces remove --cgroup: not supported by tsctr: /);
  }
  assert.equal(fs.existsSync(NO_ROOT), false);
});

test('Usage_flagSpellings_reachTheCommandAsOne', async () => {
  const root = fileURLToPath(new URL('../../fixtures/containerd/root', import.meta.url));
  const ls = async (...argv: string[]) => runTsctr(['--root', root, '-n', 'default', 'images', ...argv]);
  const quiet = await ls('ls', '--quiet');
  assert.equal(quiet.code, 0);
  assert.notEqual(quiet.out, '');
  for (const spelling of [['ls', '-q'], ['list', '-quiet'], ['ls', '--q=true'], ['i', '-q=1']]) {
    const argv = spelling[0] === 'i' ? ['--root', root, '-n', 'default', 'i', 'ls', spelling[1]!] : null;
    const r = argv ? await runTsctr(argv) : await ls(...spelling);
    assert.deepEqual(r, quiet, spelling.join(' '));
  }
  const table = await ls('ls');
  assert.deepEqual(await ls('ls', '-q=false'), table);
  assert.match(table.out, /^REF /);
});

test('Usage_syncFlag_runsContainerdsCollectionAfterARemoval', async () => {
  const fixture = fileURLToPath(new URL('../../fixtures/containerd/root', import.meta.url));
  const copy = (): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsctr-usage-sync-'));
    fs.cpSync(fixture, path.join(dir, 'root'), { recursive: true });
    return path.join(dir, 'root');
  };
  const pending = async (root: string): Promise<number> => {
    const r = await runTsctr(['--root', root, 'gc', '--dry-run']);
    assert.equal(r.code, 0, r.err);
    return r.out.split('\n').filter((l) => l !== '').length - 1; // rows under the header
  };
  const plain = copy();
  const sync = copy();
  try {
    const rm = ['-n', 'default', 'images', 'rm', 'docker.io/library/alpha:1.0'];
    const a = await runTsctr(['--root', plain, ...rm]);
    const b = await runTsctr(['--root', sync, ...rm.slice(0, 4), '--sync', ...rm.slice(4)]);
    assert.deepEqual(b, a);
    assert.ok((await pending(plain)) > 0);
    assert.equal(await pending(sync), 0);
    // nothing removed (a missing lease fails): no collection
    const again = copy();
    const l = await runTsctr(['--root', again, '-n', 'default', 'leases', 'rm', '--sync', 'nope']);
    assert.equal(l.code, 1);
    assert.ok((await pending(again)) > 0);
    fs.rmSync(path.dirname(again), { recursive: true, force: true });
    // a lease removed: collected
    const lease = copy();
    const r = await runTsctr(['--root', lease, '-n', 'default', 'leases', 'rm', '--sync', 'short-lived']);
    assert.deepEqual(r, { code: 0, out: 'short-lived\n', err: '' });
    assert.equal(await pending(lease), 0);
    fs.rmSync(path.dirname(lease), { recursive: true, force: true });
  } finally {
    for (const r of [plain, sync]) fs.rmSync(path.dirname(r), { recursive: true, force: true });
  }
});

test('Usage_emptySnapshotter_standsForTheDefault', async () => {
  const root = fileURLToPath(new URL('../../fixtures/containerd/root', import.meta.url));
  const ls = await runTsctr(['--root', root, '-n', 'default', 'snapshots', 'ls']);
  assert.equal(ls.code, 0, ls.err);
  assert.deepEqual(await runTsctr(['--root', root, '-n', 'default', 'snapshots', '--snapshotter=', 'ls']), ls);
  assert.deepEqual(await runTsctr(['--root', root, '-n', 'default', 'snapshots', '--snapshotter', '', 'list']), ls);
});
