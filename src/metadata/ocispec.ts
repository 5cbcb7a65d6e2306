// The OCI spec as ctr prints it: `containers info` decodes the stored JSON into Go's specs.Spec and marshals
// it back, so the output follows specs.Spec (field order, omitempty, keys Go does not know dropped, maps
// with sorted keys, `user` always present), not the stored text. This does the same with the field table
// of ocispec-schema.ts, following encoding/json's rules:
//   decode   object keys match fields exactly, else case-insensitively; unknown keys are ignored; null
//            leaves the zero value; a value of the wrong JSON type is an error (Go's UnmarshalTypeError)
//   marshal  fields in declaration order; omitempty drops "", 0, false, nil and empty slices and maps;
//            a nil slice, map or pointer without omitempty is null; a struct is never omitted

import { GoObject, type GoValue } from './gojson.js';
import { OCI_SPEC_ROOT, OCI_SPEC_TYPES } from './ocispec-schema.js';
import { goJSONKind as jsonKind, GoJSONNumber, GoJSONSyntaxError, parseGoJSON, type GoJSON } from './gojson-scan.js';

/** Go refuses the text (syntax or a type mismatch); ctr would fail the same way. */
export class SpecDecodeError extends Error {
  readonly code = 'ERR_SPEC_DECODE';
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
/** A decoded Go value: undefined is the zero value (nil for pointers, slices, maps, interfaces). */
type Val = undefined | boolean | number | string | Val[] | Map<string, Val> | Struct | { any: Json };
interface Struct {
  struct: Map<string, Val>;
}

/**
 * Where the decoder is, for Go's UnmarshalTypeError text: the struct whose field is being decoded
 * and the JSON names from the root ("process.user.uid"); none at the top level.
 */
interface At {
  struct?: string;
  path: string[];
}

/** Go's type name at the point of failure: pointers are followed first (*specs.Process fails as specs.Process). */
const goName = (g: string): string => (g.startsWith('*') ? goName(g.slice(1)) : g);

function fail(what: string, goType: string, at: At): never {
  const where = at.struct === undefined ? 'Go value' : `Go struct field ${at.struct}.${at.path.join('.')}`;
  throw new SpecDecodeError(`json: cannot unmarshal ${what} into ${where} of type ${goName(goType)}`);
}

/** A JSON value as an interface{} holds it: numbers as float64 (Go refuses one that overflows). */
function plain(v: GoJSON, at: At): Json {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof GoJSONNumber) {
    const n = v.value;
    if (!Number.isFinite(n)) fail(`number ${v.text}`, 'float64', at);
    return n;
  }
  if (Array.isArray(v)) return v.map((x) => plain(x, at));
  // No prototype: a key such as "__proto__" is a member like any other, as it is for Go.
  const o: { [k: string]: Json } = Object.create(null) as { [k: string]: Json };
  for (const [k, x] of v.members) o[k] = plain(x, at);
  return o;
}

const INT_RANGE: Record<string, [bigint, bigint]> = {};
for (const bits of [8, 16, 32, 64]) {
  INT_RANGE[`int${bits}`] = [-(1n << BigInt(bits - 1)), (1n << BigInt(bits - 1)) - 1n];
  INT_RANGE[`uint${bits}`] = [0n, (1n << BigInt(bits)) - 1n];
}

/** decode of type t (our notation) whose Go type is g, at `at`. */
function decode(t: string, g: string, v: GoJSON, at: At): Val {
  if (v === null) return undefined;
  if (t.startsWith('*')) return decode(t.slice(1), g.startsWith('*') ? g.slice(1) : g, v, at);
  if (t.startsWith('[]')) {
    if (!Array.isArray(v)) fail(jsonKind(v), g, at);
    return v.map((x) => decode(t.slice(2), g.slice(2), x, at));
  }
  if (t.startsWith('map[string]')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof GoJSONNumber) fail(jsonKind(v), g, at);
    const m = new Map<string, Val>();
    for (const [k, x] of v.members) m.set(k, decode(t.slice('map[string]'.length), g.slice('map[string]'.length), x, at));
    return m;
  }
  switch (t) {
    case 'string':
    case 'bytes':
      if (typeof v !== 'string') fail(jsonKind(v), g, at);
      return v;
    case 'bool':
      if (typeof v !== 'boolean') fail(jsonKind(v), g, at);
      return v;
    case 'any':
      return { any: plain(v, at) };
  }
  const num = /^(u?int|float)(\d+)$/.exec(t);
  if (num) {
    if (!(v instanceof GoJSONNumber)) fail(jsonKind(v), g, at);
    if (num[1] === 'float') {
      const n = v.value;
      if (!Number.isFinite(n) || (num[2] === '32' && Math.abs(n) > 3.4028234663852886e38)) fail(`number ${v.text}`, g, at);
      return n;
    }
    // strconv.ParseInt/ParseUint of the text: digits only (an optional "-" for ints), in range.
    const ok = num[1] === 'uint' ? /^[0-9]+$/.test(v.text) : /^-?[0-9]+$/.test(v.text);
    const [lo, hi] = INT_RANGE[t]!;
    if (!ok || BigInt(v.text) < lo || BigInt(v.text) > hi) fail(`number ${v.text}`, g, at);
    return Number(v.text);
  }
  const fields = OCI_SPEC_TYPES[t];
  if (!fields) throw new SpecDecodeError(`unknown spec type ${t}`);
  if (typeof v !== 'object' || Array.isArray(v) || v instanceof GoJSONNumber) fail(jsonKind(v), g, at);
  const out = new Map<string, Val>();
  for (const [k, x] of v.members) {
    const f = fields.find((f) => f[0] === k) ?? fields.find((f) => f[0].toLowerCase() === k.toLowerCase());
    if (!f) continue;
    // null leaves the field as it is; a pointer to a struct decodes into a new value.
    if (x === null) {
      if (f[1].startsWith('*') || f[1].startsWith('[]') || f[1].startsWith('map[') || f[1] === 'any') out.set(f[0], undefined);
      continue;
    }
    out.set(f[0], decode(f[1], f[3], x, { struct: t, path: [...at.path, f[0]] }));
  }
  return { struct: out };
}

const isNumber = (t: string): boolean => /^(u?int|float)\d+$/.test(t);
const isBasic = (t: string): boolean => t === 'string' || t === 'bytes' || t === 'bool' || t === 'any' || isNumber(t);

function isEmpty(t: string, v: Val): boolean {
  // A struct is never empty for omitempty, not even its zero value.
  if (!isBasic(t) && !t.startsWith('*') && !t.startsWith('[]') && !t.startsWith('map[')) return false;
  if (v === undefined) return true;
  if (t.startsWith('*')) return false;
  if (t.startsWith('[]')) return (v as Val[]).length === 0;
  if (t.startsWith('map[string]')) return (v as Map<string, Val>).size === 0;
  if (t === 'string' || t === 'bytes') return v === '';
  if (t === 'bool') return v === false;
  if (isNumber(t)) return v === 0;
  return false;
}

/** An interface{} value as Go holds decoded JSON: objects become maps with sorted keys. */
function anyValue(v: Json): GoValue {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(anyValue);
  return new GoObject(Object.keys(v).sort().map((k) => [k, anyValue(v[k]!)]));
}

function encode(t: string, v: Val): GoValue {
  if (t.startsWith('*')) return v === undefined ? null : encode(t.slice(1), v);
  if (t.startsWith('[]')) return v === undefined ? null : (v as Val[]).map((x) => encode(t.slice(2), x));
  if (t.startsWith('map[string]')) {
    if (v === undefined) return null;
    const m = v as Map<string, Val>;
    return new GoObject([...m.keys()].sort().map((k) => [k, encode(t.slice('map[string]'.length), m.get(k))]));
  }
  switch (t) {
    case 'string':
      return (v as string | undefined) ?? '';
    case 'bytes':
      return v === undefined ? null : Buffer.from(v as string, 'base64').toString('base64');
    case 'bool':
      return (v as boolean | undefined) ?? false;
    case 'any':
      return v === undefined ? null : anyValue((v as { any: Json }).any);
  }
  if (isNumber(t)) return (v as number | undefined) ?? 0;
  const fields = OCI_SPEC_TYPES[t]!;
  const s = (v as Struct | undefined)?.struct ?? new Map<string, Val>();
  const entries: [string, GoValue][] = [];
  for (const [name, ft, omit] of fields) {
    const x = s.get(name);
    if (omit && isEmpty(ft, x)) continue;
    entries.push([name, encode(ft, x)]);
  }
  return new GoObject(entries);
}

/** The spec JSON as Go's specs.Spec marshals it after decoding (what ctr prints); throws SpecDecodeError. */
export function remarshalSpec(text: string): GoValue {
  let v: GoJSON;
  try {
    v = parseGoJSON(Buffer.from(text, 'utf8'));
  } catch (e) {
    if (e instanceof GoJSONSyntaxError) throw new SpecDecodeError(e.message);
    throw e;
  }
  // A top-level null decodes to the zero Spec.
  return encode(OCI_SPEC_ROOT, decode(OCI_SPEC_ROOT, 'specs.Spec', v, { path: [] }));
}
