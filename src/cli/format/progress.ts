// A one-line progress bar for long writes (content ingests, image imports): drawn on stderr
// only when it is a TTY, redrawn in place with "\r", sizes in ctr's progress units (KiB, MiB).
import { progressBytes } from './units.js';

export interface ProgressBarOptions {
  /** Printed before the bar. */
  label?: string;
  /** Columns for the bar itself (default 30). */
  width?: number;
  /** Minimum milliseconds between redraws (default 100); the final state is always drawn. */
  intervalMs?: number;
  /** The clock, for tests. */
  now?: () => number;
}

export interface ProgressOut {
  write(s: string): unknown;
  isTTY?: boolean;
}

/** The bar's text for `done` of `total` bytes (total unknown or 0: just the byte count). */
export function renderProgress(done: number, total: number | undefined, opts: Pick<ProgressBarOptions, 'label' | 'width'> = {}): string {
  const width = opts.width ?? 30;
  const label = opts.label ? `${opts.label} ` : '';
  if (total && total > 0) {
    const frac = Math.min(1, done / total);
    const full = Math.round(frac * width);
    return `${label}[${'='.repeat(full)}${' '.repeat(width - full)}] ${progressBytes(done)}/${progressBytes(total)} ${(frac * 100).toFixed(0)}%`;
  }
  return `${label}${progressBytes(done)}`;
}

/**
 * A progress callback (done, total?) drawing on `out` when it is a TTY and doing nothing
 * otherwise, so piped output stays clean. Call `done()` to end the line.
 */
export function progressBar(out: ProgressOut, opts: ProgressBarOptions = {}): ((done: number, total?: number) => void) & { done(): void } {
  const interval = opts.intervalMs ?? 100;
  const now = opts.now ?? Date.now;
  let last = -Infinity;
  let drawn = false;
  const fn = ((done: number, total?: number) => {
    if (!out.isTTY) return;
    const t = now();
    if (t - last < interval && !(total && done >= total)) return;
    last = t;
    out.write(`\r${renderProgress(done, total, opts)}\x1b[K`);
    drawn = true;
  }) as ((done: number, total?: number) => void) & { done(): void };
  fn.done = () => {
    if (drawn && out.isTTY) out.write('\n');
    drawn = false;
  };
  return fn;
}
