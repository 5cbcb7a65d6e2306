// The HTML page `tsbolt map` writes: one self-contained document (inline CSS, inline script, the
// data as JSON in the page; no external resource of any kind) showing
//   - the page space: one cell per page (or per group of pages on big files), coloured by kind,
//     with a legend holding the count of each kind; hovering a cell names the page and its bucket;
//   - the bucket tree: every bucket, nested, with its keys, nested buckets, pages and bytes
//     (its own, and with everything below it).
// The grid is drawn by the script from the page kinds (one letter per page), so a large file
// does not become megabytes of markup; the legend and the tree are plain HTML.

import { PAGE_KINDS, type BucketUsage, type PageKind, type PageMap } from '../../bolt/pagemap.js';
import { progressBytes } from './units.js';

/** Cells drawn at most; beyond this each cell stands for several consecutive pages. */
export const MAX_CELLS = 65536;

const COLOURS: Record<PageKind, string> = {
  meta: '#6a3d9a',
  freelist: '#ff7f00',
  branch: '#1f78b4',
  leaf: '#33a02c',
  overflow: '#b2df8a',
  free: '#e0e0e0',
  unreachable: '#e31a1c',
  unallocated: '#ffffff',
};

const LETTER = 'mFblofuz'; // PAGE_KINDS order, one letter each

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** A bucket name as text when it is printable UTF-8, else as 0x-hex. */
export function bucketLabel(name: Uint8Array): string {
  try {
    const s = utf8.decode(name);
    if (!/[\p{Cc}\p{Cs}\p{Co}\p{Cn}]/u.test(s)) return s;
  } catch {
    // not UTF-8
  }
  return '0x' + Buffer.from(name).toString('hex');
}

function sizes(c: BucketUsage['own']): string {
  const pages = c.branchPages + c.leafPages + c.overflowPages;
  const n = (k: number, w: string): string => `${k} ${w}${k === 1 ? '' : 's'}`;
  return `${n(c.keys, 'key')}, ${n(c.buckets, 'bucket')}, ${n(pages, 'page')}, ${progressBytes(c.bytes)}`;
}

function tree(u: BucketUsage, path: string): string {
  const label = u.depth === 0 ? '(root)' : bucketLabel(u.name);
  const own = `<span class="own">${esc(sizes(u.own))}${u.inline ? ' (inline)' : ` (root page ${u.root})`}</span>`;
  const total = u.children.length > 0 ? ` <span class="total">all: ${esc(sizes(u.total))}</span>` : '';
  const head = `<span class="bname" data-path="${esc(path)}">${esc(label)}</span> ${own}${total}`;
  if (u.children.length === 0) return `<li class="bucket" data-index="${u.index}">${head}</li>`;
  const kids = u.children.map((c) => tree(c, path === '' ? bucketLabel(c.name) : `${path}/${bucketLabel(c.name)}`)).join('');
  return `<li class="bucket" data-index="${u.index}"><details${u.depth < 2 ? ' open' : ''}><summary>${head}</summary><ul>${kids}</ul></details></li>`;
}

export function renderPageMapHTML(m: PageMap, title: string): string {
  const n = m.kinds.length;
  const group = Math.max(1, Math.ceil(n / MAX_CELLS));
  let kinds = '';
  for (let i = 0; i < n; i++) kinds += LETTER[m.kinds[i]!];
  const paths: string[] = new Array(m.buckets.length);
  const walk = (u: BucketUsage, p: string): void => {
    paths[u.index] = p;
    for (const c of u.children) walk(c, p === '' ? bucketLabel(c.name) : `${p}/${bucketLabel(c.name)}`);
  };
  walk(m.root, '');
  const data = {
    pageSize: m.pageSize,
    group,
    kinds,
    letters: LETTER,
    names: PAGE_KINDS,
    owners: group === 1 ? Array.from(m.owners) : [],
    paths,
  };
  // JSON inside <script>: escape '<' so no "</script>" can end it early.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const legend = PAGE_KINDS.map(
    (k) => `<li class="legend-item" data-kind="${k}"><span class="swatch k-${k}"></span><span class="kind">${k}</span> <span class="count">${m.counts[k]}</span></li>`,
  ).join('');
  const css = [
    'body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222}',
    'h1{font-size:18px}h2{font-size:15px;margin-top:20px}',
    '#grid{display:flex;flex-wrap:wrap;gap:1px;max-width:1200px}',
    '.cell{width:9px;height:9px;box-sizing:border-box;border:1px solid #bbb}',
    '.swatch{display:inline-block;width:12px;height:12px;border:1px solid #999;vertical-align:middle;margin-right:4px}',
    '#legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:14px}',
    '#hover{min-height:1.4em;font-family:monospace}',
    '#tree ul{list-style:none;padding-left:18px;margin:0}#tree{list-style:none;padding-left:0}',
    '.bname{font-family:monospace;font-weight:600}.own{color:#555}.total{color:#1f78b4}',
    '#errors li{color:#e31a1c;font-family:monospace}',
    ...PAGE_KINDS.map((k) => `.k-${k}{background:${COLOURS[k]}}`),
  ].join('\n');
  const script = `
(function(){
  var d = JSON.parse(document.getElementById('pagemap-data').textContent);
  var grid = document.getElementById('grid');
  var hover = document.getElementById('hover');
  var n = d.kinds.length, g = d.group, frag = document.createDocumentFragment();
  for (var s = 0; s < n; s += g) {
    var e = Math.min(n, s + g), best = -1, bestN = 0, cnt = {};
    for (var i = s; i < e; i++) { var c = d.kinds.charAt(i); cnt[c] = (cnt[c] || 0) + 1; }
    for (var c in cnt) if (cnt[c] > bestN) { best = c; bestN = cnt[c]; }
    var cell = document.createElement('div');
    cell.className = 'cell k-' + d.names[d.letters.indexOf(best)];
    cell.setAttribute('data-first', String(s));
    cell.setAttribute('data-pages', String(e - s));
    frag.appendChild(cell);
  }
  grid.appendChild(frag);
  grid.addEventListener('mouseover', function(ev){
    var t = ev.target; if (!t || !t.getAttribute || t.getAttribute('data-first') === null) return;
    var s = Number(t.getAttribute('data-first')), k = Number(t.getAttribute('data-pages'));
    if (k === 1) {
      var o = d.owners.length ? d.owners[s] : -1;
      hover.textContent = 'page ' + s + ': ' + d.names[d.letters.indexOf(d.kinds.charAt(s))] + (o >= 0 ? ', bucket ' + (d.paths[o] || '(root)') : '');
    } else {
      var cnt = {}; for (var i = s; i < s + k; i++) { var c = d.names[d.letters.indexOf(d.kinds.charAt(i))]; cnt[c] = (cnt[c] || 0) + 1; }
      hover.textContent = 'pages ' + s + '-' + (s + k - 1) + ': ' + Object.keys(cnt).map(function(c){ return c + ' ' + cnt[c]; }).join(', ');
    }
  });
  document.getElementById('cells').textContent = String(grid.children.length);
})();`;
  const errs = m.errors.length > 0 ? `<h2>Problems found while walking (${m.errors.length})</h2><ul id="errors">${m.errors.map((e) => `<li>${esc(e)}</li>`).join('')}</ul>` : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${esc(title)}</title>
<style>${css}</style></head>
<body>
<h1>${esc(title)}</h1>
<p id="summary">page size <b>${m.pageSize}</b>, txid <b>${m.txid}</b>, high-water mark <b>${m.hwm}</b>, <b>${m.filePages}</b> pages in the file,
<b>${m.buckets.length}</b> buckets; <span id="cells">0</span> cells of <b id="group">${group}</b> page${group === 1 ? '' : 's'} each.</p>
<h2>Page space</h2>
<ul id="legend">${legend}</ul>
<div id="hover"></div>
<div id="grid"></div>
${errs}
<h2>Buckets</h2>
<ul id="tree">${tree(m.root, '')}</ul>
<script type="application/json" id="pagemap-data">${json}</script>
<script>${script}</script>
</body></html>
`;
}
