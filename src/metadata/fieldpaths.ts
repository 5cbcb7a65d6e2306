// The field paths the stores' Update takes (containerd's `fieldpaths`), for the fields that several
// object kinds share. A map field F (labels, a descriptor's annotations):
//   "F"        replaced by the input's (copied), or removed when the input has none
//   "F.<key>"  one key set to the input's value, "" when the input lacks it
// extensions (containers, sandboxes) likewise, a missing "extensions.<name>" stored as the zero Any.
// Each helper applies `path` to `updated` and says whether it was its field; the caller handles the
// kind's other paths and refuses unknown ones.
import { copyAny, copyExtensions, type Any } from './any.js';

type StringMaps<F extends string> = { [K in F]?: Record<string, string> };

export function applyMapFieldpath<F extends string>(updated: StringMaps<F>, input: StringMaps<F>, field: F, path: string): boolean {
  if (path.startsWith(field + '.')) {
    const key = path.slice(field.length + 1);
    const m: Record<string, string> = (updated[field] ??= {});
    m[key] = input[field]?.[key] ?? '';
    return true;
  }
  if (path !== field) return false;
  const v = input[field];
  if (v) updated[field] = { ...v };
  else delete updated[field];
  return true;
}

export function applyExtensionsFieldpath(updated: { extensions?: Record<string, Any> }, input: { extensions?: Record<string, Any> }, path: string): boolean {
  if (path.startsWith('extensions.')) {
    const key = path.slice('extensions.'.length);
    updated.extensions ??= {};
    const ext = input.extensions?.[key];
    // Go stores the zero Any (an empty value) for a key missing from the input.
    updated.extensions[key] = ext ? copyAny(ext) : { typeUrl: '', value: new Uint8Array(0) };
    return true;
  }
  if (path !== 'extensions') return false;
  if (input.extensions) updated.extensions = copyExtensions(input.extensions);
  else delete updated.extensions;
  return true;
}
