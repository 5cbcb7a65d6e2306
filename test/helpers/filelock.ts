// Another process holding a file's lock, as a running containerd holds meta.db (bbolt's flock) or a
// second writer an ingest's data file.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));

export interface HeldLock {
  /** Kills the holder and waits for it to exit. */
  release(): Promise<void>;
}

/** Resolves once a child process holds an exclusive flock (fs-ext, LOCK_EX|LOCK_NB) on `file`. */
export async function lockInAnotherProcess(file: string): Promise<HeldLock> {
  const child = spawn(process.execPath, ['-e', `const fe=require('fs-ext');const fs=require('fs');const fd=fs.openSync(${JSON.stringify(file)},'r+');fe.flockSync(fd,'exnb');console.log('locked');setTimeout(()=>{},30000)`], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: repo,
  });
  const exit = new Promise((r) => child.once('exit', r));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the process meant to lock ${file} exited (${code}) before it did`)));
  });
  return {
    async release() {
      child.kill('SIGKILL');
      await exit;
    },
  };
}
