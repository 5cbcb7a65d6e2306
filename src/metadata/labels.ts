// Label rules (containerd labels.Validate): key + value at most 4096 bytes (UTF-8).

import { ErrInvalidArgument } from './errors.js';

export const MAX_LABEL_SIZE = 4096;
const encoder = new TextEncoder();

export type Labels = Record<string, string>;

export function validateLabel(key: string, value: string): void {
  const n = encoder.encode(key).length + encoder.encode(value).length;
  if (n > MAX_LABEL_SIZE) {
    throw new ErrInvalidArgument(`label key and value length (${n} bytes) greater than maximum size (${MAX_LABEL_SIZE} bytes)`);
  }
}

export function validateLabels(labels: Labels | undefined): void {
  for (const [k, v] of Object.entries(labels ?? {})) validateLabel(k, v);
}
