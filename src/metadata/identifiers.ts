// Identifier rules for namespaces, containers, leases and sandboxes (containerd identifiers.Validate).

import { ErrInvalidArgument } from './errors.js';

export const MAX_IDENTIFIER_LENGTH = 76;
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;

/** Throws ErrInvalidArgument unless s is a valid identifier. */
export function validateIdentifier(s: string): void {
  if (s.length === 0) throw new ErrInvalidArgument('identifier must not be empty');
  if (s.length > MAX_IDENTIFIER_LENGTH) {
    throw new ErrInvalidArgument(`identifier ${JSON.stringify(s)} greater than maximum length (${MAX_IDENTIFIER_LENGTH} characters)`);
  }
  if (!IDENTIFIER_PATTERN.test(s)) {
    throw new ErrInvalidArgument(`identifier ${JSON.stringify(s)} must match ${IDENTIFIER_PATTERN.source}`);
  }
}

/** Namespaces are identifiers, and "version" is taken by the schema version key. */
export function validateNamespace(ns: string): void {
  validateIdentifier(ns);
  if (ns === 'version') throw new ErrInvalidArgument(`namespace "version" is reserved`);
}
