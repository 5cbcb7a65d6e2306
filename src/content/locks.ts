// One writer per ref. containerd keeps its locks in a process-wide map (content/local/locks.go),
// so two containerd processes on one root would not see each other. We keep the same in-process
// map (keyed by the ingest directory, so two stores on different roots do not collide) and, in
// addition, take flock(LOCK_EX|LOCK_NB) on the ingest's `data` file for as long as the writer
// is open, so a second tsbolt process gets ERR_CONTENT_LOCKED too. containerd itself takes no
// flock: a containerd writer and a tsbolt writer on the same ref are not kept apart.

import { createRequire } from 'node:module';
import { ContentLockedError } from './errors.js';

const require = createRequire(import.meta.url);
interface FsExt {
  flockSync(fd: number, flags: 'sh' | 'ex' | 'shnb' | 'exnb' | 'un'): void;
}
let fsExtLib: FsExt | undefined;
function fsExt(): FsExt {
  return (fsExtLib ??= require('fs-ext') as FsExt);
}

const held = new Set<string>();

/** Takes the in-process lock for an ingest directory; throws ContentLockedError if held. */
export function tryLock(key: string, ref: string): void {
  if (held.has(key)) throw new ContentLockedError(ref, 'process');
  held.add(key);
}

export function unlock(key: string): void {
  held.delete(key);
}

export function isLocked(key: string): boolean {
  return held.has(key);
}

/** flock(LOCK_EX|LOCK_NB) on an open descriptor; throws ContentLockedError when another holds it. */
export function flockExclusive(fd: number, ref: string): void {
  try {
    fsExt().flockSync(fd, 'exnb');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') throw new ContentLockedError(ref, 'other-process');
    throw e;
  }
}
