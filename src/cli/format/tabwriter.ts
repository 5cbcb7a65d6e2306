// Go's text/tabwriter (the elastic tabstop algorithm) for output that must match ctr byte for byte.
//
// A cell is text terminated by '\t' (or '\v'); the last cell of a line is not tab-terminated and takes no part
// in alignment. A column block is a run of adjacent lines that have a cell in that column; its width is the
// widest cell + padding, at least minwidth. Padding with '\t' rounds the width up to a multiple of tabwidth
// and writes ceil(n / tabwidth) tabs. A line with a single cell (no tabs) ends every open block (Go flushes).
// Widths count Unicode code points, as utf8.RuneCount does. Implemented flags: AlignRight, DiscardEmptyColumns,
// TabIndent, Debug.

export const FILTER_HTML = 1;
export const STRIP_ESCAPE = 2;
export const ALIGN_RIGHT = 4;
export const DISCARD_EMPTY_COLUMNS = 8;
export const TAB_INDENT = 16;
export const DEBUG = 32;

interface Cell {
  text: string;
  width: number;
  /** Terminated by '\t' (true) rather than '\v'. */
  htab: boolean;
}

function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export class TabWriter {
  private out = '';
  private lines: Cell[][] = [[]];
  private cell = '';
  private widths: number[] = [];

  constructor(
    private readonly minwidth: number,
    private readonly tabwidth: number,
    private readonly padding: number,
    private readonly padchar: string,
    private readonly flags = 0,
  ) {}

  /** Buffers text; complete blocks may be formatted before flush(), as Go's Writer does. */
  write(text: string): void {
    for (const ch of text) {
      if (ch === '\t' || ch === '\v') {
        this.terminateCell(ch === '\t');
      } else if (ch === '\n' || ch === '\f') {
        const ncells = this.terminateCell(false);
        this.lines.push([]);
        if (ch === '\f' || ncells === 1) this.flushInternal();
      } else {
        this.cell += ch;
      }
    }
  }

  /** Formats everything buffered and returns all output produced since the last call. */
  flush(): string {
    if (this.cell.length > 0) this.terminateCell(false);
    this.flushInternal();
    const o = this.out;
    this.out = '';
    return o;
  }

  private terminateCell(htab: boolean): number {
    const line = this.lines[this.lines.length - 1]!;
    line.push({ text: this.cell, width: runeCount(this.cell), htab });
    this.cell = '';
    return line.length;
  }

  private flushInternal(): void {
    this.format(0, this.lines.length);
    this.lines = [[]];
    this.widths = [];
  }

  private format(line0: number, line1: number): void {
    const column = this.widths.length;
    for (let t = line0; t < line1; t++) {
      const line = this.lines[t]!;
      if (column >= line.length - 1) continue;
      this.writeLines(line0, t);
      line0 = t;
      let width = this.minwidth;
      let discardable = true;
      for (; t < line1; t++) {
        const l = this.lines[t]!;
        if (column >= l.length - 1) break;
        const c = l[column]!;
        const w = c.width + this.padding;
        if (w > width) width = w;
        if (c.width > 0 || c.htab) discardable = false;
      }
      if (discardable && this.flags & DISCARD_EMPTY_COLUMNS) width = 0;
      this.widths.push(width);
      this.format(line0, t);
      this.widths.pop();
      line0 = t;
      t--; // the outer loop's increment must revisit line t
    }
    this.writeLines(line0, line1);
  }

  private writePadding(textw: number, cellw: number, useTabs: boolean): void {
    if (this.padchar === '\t' || useTabs) {
      if (this.tabwidth === 0) return;
      cellw = Math.ceil(cellw / this.tabwidth) * this.tabwidth;
      const n = cellw - textw;
      this.out += '\t'.repeat(Math.ceil(n / this.tabwidth));
      return;
    }
    this.out += this.padchar.repeat(Math.max(0, cellw - textw));
  }

  private writeLines(line0: number, line1: number): void {
    for (let i = line0; i < line1; i++) {
      const line = this.lines[i]!;
      let useTabs = (this.flags & TAB_INDENT) !== 0;
      line.forEach((c, j) => {
        if (j > 0 && this.flags & DEBUG) this.out += '|';
        if (c.text.length === 0) {
          if (j < this.widths.length) this.writePadding(c.width, this.widths[j]!, useTabs);
        } else {
          useTabs = false;
          if ((this.flags & ALIGN_RIGHT) === 0) {
            this.out += c.text;
            if (j < this.widths.length) this.writePadding(c.width, this.widths[j]!, false);
          } else {
            if (j < this.widths.length) this.writePadding(c.width, this.widths[j]!, false);
            this.out += c.text;
          }
        }
      });
      if (i + 1 === this.lines.length) {
        this.out += this.cell;
        this.cell = '';
      } else {
        this.out += '\n';
      }
    }
  }
}
