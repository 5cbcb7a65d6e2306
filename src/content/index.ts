// The content store's public API (containerd's io.containerd.content.v1.content).
export { openContentStore, ContentStore, MemoryLabelStore } from './store.js';
export type { Info, LabelStore, ContentStoreOptions, BlobReader, WalkFn } from './store.js';
export { ContentWriter } from './writer.js';
export type { WriterOptions, CommitOptions, ProgressFn } from './writer.js';
export type { Status } from './ingest.js';
export { MAX_REF_LENGTH, validateRef, ingestKey, readStatus } from './ingest.js';
export { parseGoRFC3339, GoTimeParseError, type GoTimestamp } from './rfc3339.js';
export { ALGORITHMS, CANONICAL, Digester, digestOf, isDigest, parseDigest, validateDigest } from './digest.js';
export type { Algorithm, ParsedDigest } from './digest.js';
export { parseFilter, parseFilters, checkMap } from './filters.js';
export type { Filter, Adaptor } from './filters.js';
export { ingest } from './helpers.js';
export type { IngestOptions, IngestResult } from './helpers.js';
export {
  ContentError,
  ContentNotFoundError,
  ContentAlreadyExistsError,
  ContentLockedError,
  InvalidDigestError,
  ContentSizeMismatchError,
  ContentDigestMismatchError,
  InvalidRefError,
  ContentUnsafePathError,
  InvalidFilterError,
  ContentPreconditionError,
  ContentInvalidArgumentError,
  ContentCorruptError,
  ContentTimestampError,
} from './errors.js';
export type { InvalidDigestReason } from './errors.js';
