// Public entry of the metadata layer: containerd's meta.db schema and the snapshotter metadata.db.
export * from './errors.js';
export * from './encoding.js';
export { type Any, decodeAny, encodeAny } from './any.js';
export { ZERO_TIME, SCHEMA_VERSION } from './buckets.js';
export { validateIdentifier, validateNamespace, MAX_IDENTIFIER_LENGTH, IDENTIFIER_PATTERN } from './identifiers.js';
export { validateLabel, validateLabels, MAX_LABEL_SIZE, type Labels } from './labels.js';
export { parseFilter, parseFilters, type Filter, type Adaptor } from './filters.js';
export { type Namespace } from './namespaces.js';
export { type Image, type Descriptor, adaptImage } from './images.js';
export { type Container, type RuntimeInfo, adaptContainer } from './containers.js';
export { type ContentInfo, type Ingest, adaptContent, isDigest } from './content.js';
export { type SnapshotRef } from './snapshots.js';
export { type Lease, type LeaseResource, adaptLease } from './leases.js';
export { type Sandbox, adaptSandbox } from './sandboxes.js';
export { type SandboxInput, type SandboxLayout, sandboxLayoutFor, validateSandbox } from './sandbox-store.js';
export { SnapshotterDB, type BackendSnapshot, type SnapshotKind, kindName, snapshotDir, KIND_VIEW, KIND_ACTIVE, KIND_COMMITTED } from './snapshotter.js';
export { openMetadata, MetadataDB, type OpenMetadataOptions, readDBVersion, DB_VERSION_V3, DB_VERSION_V4, MAX_KNOWN_DB_VERSION } from './db.js';
// The write side (containerd 1.6 semantics and encodings).
export { createMetadata } from './db.js';
export { initSchema, MIGRATIONS, DB_VERSION, type InitResult, type Migration } from './migrations.js';
export { type Clock, systemClock } from './boltutil.js';
export { type ImageInput, validateImage } from './image-store.js';
export { type ContainerInput, validateContainer, specAny, SPEC_TYPE_URL } from './container-store.js';
export { type CreateLeaseOptions, parseLeaseResource } from './lease-store.js';
export { type BlobRecordOptions, type UpdateContentOptions, type OpenIngestOptions, type OpenIngestResult, INGEST_EXPIRY_SECONDS } from './content-store.js';
export { NamespacedContentStore, NamespacedWriter, type ContentSharingPolicy, type NamespacedWriterOptions } from './content-writer.js';
// containerd 1.6's garbage collector and the removals that feed it.
export { gcPlan, whyChain, removeGarbage, scanAll, nodeId, type GCNode, type GCLink, type GCPlan, type GCResourceType } from './gc.js';
export { planGarbageCollect, garbageCollect, type GCRun, type SnapshotterCleanup, type ContentCleanup } from './gc-cleanup.js';
export { removeSnapshotRecord } from './snapshot-store.js';
export { removeBackendSnapshot, type RemovedSnapshot } from './snapshotter.js';
export { importImages, type ImportOptions, type ImportResult } from './import.js';
export { normalizeReference, refTranslator, digestTranslator } from './reference.js';
export { parsePlatform, onlyPlatform, onlyStrictPlatform, allPlatforms, defaultPlatform, type Platform, type MatchComparer } from './platforms.js';
