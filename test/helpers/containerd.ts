// Starts a real containerd (1.6, /usr/bin/containerd) on a private root for interop tests.
// The config is the one in ../shared/NOTES.md: root and state under `dir`, the CRI plugin off,
// the gRPC socket under `dir`, and the startup garbage collection postponed (see below). `ctr` talks to it through `-a <socket>`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';

export interface CtrResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Containerd {
  root: string;
  state: string;
  socket: string;
  /** The content store directory: `<root>/io.containerd.content.v1.content`. */
  content: string;
  ctr(args: string[], input?: Buffer): Promise<CtrResult>;
  /** Runs ctr and returns the child, for tests that kill it midway. */
  spawnCtr(args: string[]): ChildProcess;
  stop(): Promise<void>;
}

/** The error, fatal and panic lines of the containerd.log that startContainerd(dir) wrote. */
export function containerdLogErrors(dir: string): string[] {
  return fs
    .readFileSync(path.join(dir, 'containerd.log'), 'utf8')
    .split('\n')
    .filter((l) => /level=(error|fatal|panic)/.test(l));
}

/** A fresh dir whose root/ (startContainerd's layout) holds a copy of `metaDB` as its meta.db. */
export function rootWithMetaDB(prefix: string, metaDB: string): { dir: string; root: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const root = path.join(dir, 'root');
  fs.mkdirSync(path.join(root, 'io.containerd.metadata.v1.bolt'), { recursive: true });
  fs.copyFileSync(metaDB, path.join(root, 'io.containerd.metadata.v1.bolt', 'meta.db'));
  return { dir, root };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Starts containerd with `dir` holding config.toml, root/, state/, c.sock and containerd.log. */
export async function startContainerd(dir: string, timeoutMs = 20_000): Promise<Containerd> {
  fs.mkdirSync(dir, { recursive: true });
  const root = path.join(dir, 'root');
  const state = path.join(dir, 'state');
  const socket = path.join(dir, 'c.sock');
  const config = path.join(dir, 'config.toml');
  fs.writeFileSync(
    config,
    [
      'version = 2',
      `root = ${JSON.stringify(root)}`,
      `state = ${JSON.stringify(state)}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = ${JSON.stringify(socket)}`,
      // containerd collects garbage 100 ms after start: blobs in the content store that no
      // namespace references (all of ours, before `ctr content ingest` adopts them) would be
      // deleted under the test. Put the startup collection an hour away.
      '[plugins."io.containerd.gc.v1.scheduler"]',
      '  startup_delay = "1h"',
      '',
    ].join('\n'),
  );
  fs.rmSync(socket, { force: true });
  const log = fs.openSync(path.join(dir, 'containerd.log'), 'a');
  const child = spawn('containerd', ['--config', config], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const done = exited(child);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`containerd exited (${child.exitCode ?? child.signalCode}); log: ${fs.readFileSync(path.join(dir, 'containerd.log'), 'utf8').slice(-2000)}`);
    }
    if (fs.existsSync(socket)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`containerd did not create ${socket} within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const spawnCtr = (args: string[]) => spawn('ctr', ['-a', socket, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  // Input goes through a file, not a pipe: ctr seeks its stdin when it resumes a write.
  let inputs = 0;
  const ctr = (args: string[], input?: Buffer) =>
    new Promise<CtrResult>((resolve, reject) => {
      let stdin: 'pipe' | number = 'pipe';
      if (input) {
        const f = path.join(dir, `ctr-input-${inputs++}`);
        fs.writeFileSync(f, input);
        stdin = fs.openSync(f, 'r');
      }
      const c = spawn('ctr', ['-a', socket, ...args], { stdio: [stdin, 'pipe', 'pipe'] });
      if (typeof stdin === 'number') fs.closeSync(stdin);
      else c.stdin!.end();
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      c.stdout!.on('data', (d: Buffer) => out.push(d));
      c.stderr!.on('data', (d: Buffer) => err.push(d));
      c.on('error', reject);
      c.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('latin1'), stderr: Buffer.concat(err).toString() }));
    });
  // The socket appears before every service is up; wait until ctr gets an answer.
  for (;;) {
    const r = await ctr(['version']);
    if (r.code === 0) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`containerd not answering: ${r.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    root,
    state,
    socket,
    content: path.join(root, 'io.containerd.content.v1.content'),
    ctr,
    spawnCtr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await done;
        clearTimeout(t);
      }
    },
  };
}
