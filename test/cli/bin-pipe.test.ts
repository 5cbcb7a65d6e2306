// The launchers (bin/*.js, over the built dist) when the reader of stdout goes away before the
// output is written, as in `tsctr images ls | head -1`: the process ends quietly with status 141
// (128 + SIGPIPE, what a shell reports for ctr and bbolt), not with an EPIPE stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function runClosedStdout(bin: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin', bin), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Close our end at once: the child starts in ~100 ms, so every write it makes hits a closed pipe.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('Bin_tsctr_closedStdoutEndsQuietlyWithSigpipeStatus', async () => {
  const r = await runClosedStdout('tsctr.js', ['--root', path.join(root, 'fixtures', 'containerd', 'root'), 'images', 'ls']);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 141);
});

test('Bin_tsbolt_closedStdoutEndsQuietlyWithSigpipeStatus', async () => {
  const r = await runClosedStdout('tsbolt.js', ['buckets', path.join(root, 'fixtures', 'bolt', 'nested.db')]);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 141);
});
