// Go encoding/json output: json.MarshalIndent(v, "", indent) with Go's string escaping (<, >, & and
// U+2028/U+2029 escaped), object keys in the order given (Go struct field order; sorted for maps).
// RawJSON re-indents already-encoded JSON without reordering or re-escaping anything, which is what
// Go produces when it re-marshals a value it decoded from JSON it wrote itself (the OCI spec).

export class RawJSON {
  constructor(readonly text: string) {}
}

export type GoValue = null | boolean | number | string | RawJSON | GoValue[] | GoObject;
/** An ordered object: [key, value] pairs. */
export class GoObject {
  constructor(readonly entries: [string, GoValue][]) {}
  static fromMap(m: Record<string, GoValue> | undefined): GoObject | null {
    if (!m) return null;
    return new GoObject(Object.keys(m).sort().map((k) => [k, m[k]!]));
  }
}

export function goString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) {
      out += '\\u' + c.toString(16).padStart(4, '0');
    } else out += ch;
  }
  return out + '"';
}

/** Re-indents compact or indented JSON text token by token. */
function reindent(text: string, indent: string, level: number): string {
  let out = '';
  let depth = level;
  let i = 0;
  const nl = (d: number): string => '\n' + indent.repeat(d);
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j]!)) j++;
      if (text[j] === close) {
        out += c + close;
        i = j + 1;
      } else {
        depth++;
        out += c + nl(depth);
        i++;
      }
    } else if (c === '}' || c === ']') {
      depth--;
      out += nl(depth) + c;
      i++;
    } else if (c === ',') {
      out += ',' + nl(depth);
      i++;
    } else if (c === ':') {
      out += ': ';
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else {
      let j = i;
      while (j < text.length && !/[\s,}\]:]/.test(text[j]!)) j++;
      out += text.slice(i, j);
      i = j;
    }
  }
  return out;
}

function encode(v: GoValue, indent: string, level: number): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  if (typeof v === 'string') return goString(v);
  if (v instanceof RawJSON) return reindent(v.text, indent, level);
  const pad = '\n' + indent.repeat(level + 1);
  const end = '\n' + indent.repeat(level);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return '[' + v.map((x) => pad + encode(x, indent, level + 1)).join(',') + end + ']';
  }
  if (v.entries.length === 0) return '{}';
  return '{' + v.entries.map(([k, x]) => pad + goString(k) + ': ' + encode(x, indent, level + 1)).join(',') + end + '}';
}

/** json.MarshalIndent(v, "", indent). */
export function marshalIndent(v: GoValue, indent = '    '): string {
  return encode(v, indent, 0);
}
