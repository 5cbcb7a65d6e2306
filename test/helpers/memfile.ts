// An in-memory FileIO that remembers which writes were made durable by a sync, so a test
// can simulate power loss: `crashImage()` keeps every synced byte and a random choice of
// the unsynced writes (each kept whole, dropped, or torn at a 512-byte sector boundary).
import { DataMap, type FileIO } from '../../src/bolt/index.js';
import { BoltIOError } from '../../src/bolt/index.js';

type Op = { kind: 'write'; offset: number; data: Uint8Array } | { kind: 'truncate'; size: number };

export class MemFile implements FileIO {
  readonly fd = -1;
  readonly readOnly = false;
  private live: Uint8Array;
  private liveSize: number;
  private durable: Uint8Array;
  private unsynced: Op[] = [];
  /** Throw from writeAt once this many more writes have been made (simulated death). */
  failAfterWrites = Infinity;
  /** Throw from datasync/sync when true. */
  failSync = false;
  writes = 0;

  constructor(
    readonly path = 'mem.db',
    initial: Uint8Array = new Uint8Array(0),
  ) {
    this.live = new Uint8Array(Math.max(initial.length, 4096) * 2);
    this.live.set(initial);
    this.liveSize = initial.length;
    this.durable = initial.slice();
  }

  size(): number {
    return this.liveSize;
  }
  readAt(buf: Uint8Array, offset: number): number {
    const n = Math.max(0, Math.min(buf.length, this.liveSize - offset));
    buf.set(this.live.subarray(offset, offset + n));
    return n;
  }
  private ensure(size: number): void {
    if (size <= this.live.length) return;
    const next = new Uint8Array(Math.max(size, this.live.length * 2));
    next.set(this.live.subarray(0, this.liveSize));
    this.live = next;
  }
  writeAt(buf: Uint8Array, offset: number): void {
    if (this.writes >= this.failAfterWrites) throw new BoltIOError('write mem.db: simulated failure', { syscall: 'write' });
    this.writes++;
    this.ensure(offset + buf.length);
    this.live.set(buf, offset);
    this.liveSize = Math.max(this.liveSize, offset + buf.length);
    this.unsynced.push({ kind: 'write', offset, data: buf.slice() });
  }
  datasync(): void {
    if (this.failSync) throw new BoltIOError('fdatasync mem.db: simulated failure', { syscall: 'fdatasync' });
    this.durable = this.live.slice(0, this.liveSize);
    this.unsynced = [];
  }
  sync(): void {
    this.datasync();
  }
  truncate(size: number): void {
    this.ensure(size);
    if (size < this.liveSize) this.live.fill(0, size, this.liveSize);
    this.liveSize = size;
    this.unsynced.push({ kind: 'truncate', size });
  }
  close(): void {}
  map(length: number, chunkSize?: number): DataMap {
    return DataMap.fromBytes(this.live.subarray(0, length), chunkSize);
  }
  lock(): void {}
  unlock(): void {}

  /** The bytes a power loss now could leave on disk. */
  crashImage(rand: () => number): Uint8Array {
    let img = this.durable.slice();
    for (const op of this.unsynced) {
      const r = rand();
      if (op.kind === 'truncate') {
        if (r < 0.5) {
          const n = new Uint8Array(op.size);
          n.set(img.subarray(0, Math.min(op.size, img.length)));
          img = n;
        }
        continue;
      }
      if (r < 0.4) continue; // lost
      let data = op.data;
      if (r < 0.6 && data.length > 512) data = data.subarray(0, 512 * Math.floor((rand() * data.length) / 512)); // torn
      if (op.offset + data.length > img.length) {
        const n = new Uint8Array(op.offset + data.length);
        n.set(img);
        img = n;
      }
      img.set(data, op.offset);
    }
    return img;
  }
}
