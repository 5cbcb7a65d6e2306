// Go's text conventions for byte strings, as the bbolt CLI prints them through fmt and strconv:
//   utf8.DecodeRune      one rune, or (RuneError, 1) for an invalid or truncated sequence
//   unicode.IsPrint      L, M, N, P, S and the ASCII space (U+00A0 and U+00AD are not)
//   strconv.Quote / %q   "..." with \a \b \f \n \r \t \v, \xNN (control bytes and invalid UTF-8),
//                        \uNNNN, \UNNNNNNNN for non-printable runes; lower-case hex digits
//   %x                   lower-case hex of every byte
//   %#U                  U+0067 'g' (the quoted glyph only when printable)
// Everything works on bytes (Uint8Array): keys and values are arbitrary byte strings, and the
// CLI must print exactly the bytes Go prints.

/** Go's utf8.RuneError. */
export const RUNE_ERROR = 0xfffd;

/**
 * Decodes the rune at `b[i]` as Go's utf8.DecodeRune: [rune, width]. Invalid, overlong,
 * surrogate or truncated sequences give [RUNE_ERROR, 1].
 */
export function decodeRune(b: Uint8Array, i: number): [number, number] {
  const b0 = b[i]!;
  if (b0 < 0x80) return [b0, 1];
  const n = b.length - i;
  const cont = (x: number | undefined, lo = 0x80, hi = 0xbf): boolean => x !== undefined && x >= lo && x <= hi;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    if (n >= 2 && cont(b[i + 1])) return [((b0 & 0x1f) << 6) | (b[i + 1]! & 0x3f), 2];
    return [RUNE_ERROR, 1];
  }
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    if (n >= 3 && cont(b[i + 1], lo, hi) && cont(b[i + 2])) {
      return [((b0 & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f), 3];
    }
    return [RUNE_ERROR, 1];
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    if (n >= 4 && cont(b[i + 1], lo, hi) && cont(b[i + 2]) && cont(b[i + 3])) {
      return [((b0 & 0x07) << 18) | ((b[i + 1]! & 0x3f) << 12) | ((b[i + 2]! & 0x3f) << 6) | (b[i + 3]! & 0x3f), 4];
    }
    return [RUNE_ERROR, 1];
  }
  return [RUNE_ERROR, 1];
}

const PRINT_RE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's unicode.IsPrint (== strconv.IsPrint). */
export function isPrintRune(r: number): boolean {
  if (r <= 0xff) {
    if (r >= 0x20 && r <= 0x7e) return true;
    if (r >= 0xa1 && r <= 0xff) return r !== 0xad;
    return false;
  }
  if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) return false;
  return PRINT_RE.test(String.fromCodePoint(r));
}

/** The bbolt CLI's isPrintable: valid UTF-8 made only of printable runes (true for empty). */
export function isPrintable(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; ) {
    const [r, w] = decodeRune(b, i);
    if (r === RUNE_ERROR && w === 1) return false;
    if (!isPrintRune(r)) return false;
    i += w;
  }
  return true;
}

const HEX = '0123456789abcdef';

/** %x of a byte string. */
export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

const ESCAPES: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' };

/** strconv.Quote (and fmt's %q) of a byte string. The result is valid UTF-8. */
export function goQuote(b: Uint8Array): string {
  let out = '"';
  for (let i = 0; i < b.length; ) {
    const [r, w] = decodeRune(b, i);
    if (w === 1 && r === RUNE_ERROR) {
      const x = b[i]!;
      out += '\\x' + HEX[x >> 4]! + HEX[x & 15]!;
      i += 1;
      continue;
    }
    i += w;
    if (r === 0x22 || r === 0x5c) out += '\\' + String.fromCharCode(r);
    else if (isPrintRune(r)) out += String.fromCodePoint(r);
    else if (ESCAPES[r] !== undefined) out += ESCAPES[r];
    else if (r < 0x20 || r === 0x7f) out += '\\x' + HEX[r >> 4]! + HEX[r & 15]!;
    else if (r < 0x10000) out += '\\u' + r.toString(16).padStart(4, '0');
    else out += '\\U' + r.toString(16).padStart(8, '0');
  }
  return out + '"';
}

/** strconv.Quote of a Go string given as JS text (UTF-8 encoded first). */
export function goQuoteString(s: string): string {
  return goQuote(Buffer.from(s, 'utf8'));
}

/** fmt's %#U of a rune: "U+0067 'g'", or "U+0007" when not printable. */
export function goUnicode(r: number): string {
  const code = 'U+' + r.toString(16).toUpperCase().padStart(4, '0');
  return isPrintRune(r) ? `${code} '${String.fromCodePoint(r)}'` : code;
}
