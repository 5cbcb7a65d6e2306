// Errors of the metadata layer: a small closed set mirroring containerd's errdefs, each with a stable `code`.

export class MetadataError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The object does not exist (errdefs.ErrNotFound). */
export class ErrNotFound extends MetadataError {
  static readonly code = 'ERR_NOT_FOUND';
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrNotFound.code, message, options);
  }
}

/** The object exists already (errdefs.ErrAlreadyExists). */
export class ErrAlreadyExists extends MetadataError {
  static readonly code = 'ERR_ALREADY_EXISTS';
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrAlreadyExists.code, message, options);
  }
}

/** A caller-supplied value is malformed (errdefs.ErrInvalidArgument). */
export class ErrInvalidArgument extends MetadataError {
  static readonly code = 'ERR_INVALID_ARGUMENT';
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrInvalidArgument.code, message, options);
  }
}

/** The operation conflicts with the current state, e.g. deleting a non-empty namespace (errdefs.ErrFailedPrecondition). */
export class ErrFailedPrecondition extends MetadataError {
  static readonly code = 'ERR_FAILED_PRECONDITION';
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrFailedPrecondition.code, message, options);
  }
}

/** The file carries a schema version this library does not know; refused for writing. */
export class ErrUnknownSchemaVersion extends MetadataError {
  static readonly code = 'ERR_UNKNOWN_SCHEMA_VERSION';
  readonly version: number;
  constructor(version: number) {
    super(ErrUnknownSchemaVersion.code, `metadata schema version ${version} is newer than supported (4)`);
    this.version = version;
  }
}

/** A stored value cannot be decoded (truncated varint, bad timestamp, bad protobuf). */
export class ErrCorruptValue extends MetadataError {
  static readonly code = 'ERR_CORRUPT_VALUE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrCorruptValue.code, message, options);
  }
}

/** The operation or resource type is not supported (errdefs.ErrNotImplemented), e.g. a 2.x lease resource type. */
export class ErrNotImplemented extends MetadataError {
  static readonly code = 'ERR_NOT_IMPLEMENTED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrNotImplemented.code, message, options);
  }
}

/** A filter expression does not parse (filters.ParseAll): the content store's InvalidFilterError, code ERR_INVALID_FILTER. */
export { InvalidFilterError as ErrFilterSyntax } from '../content/errors.js';

/**
 * Why an image archive cannot be imported (src/metadata/archive.ts):
 *   not-tar   the input is not a tar stream (or ends inside one)
 *   format    neither an OCI layout nor a docker save archive, an unsupported layout version, bad JSON
 *   missing   index.json, a config, a layer or a blob a manifest names is not in the archive
 *   digest    a blobs/<alg>/<hex> file whose bytes have another digest
 *   empty     nothing to import (every manifest filtered out)
 *   option    an import option offline cannot honour
 */
export type ImportArchiveReason = 'not-tar' | 'format' | 'missing' | 'digest' | 'empty' | 'option';

/** An image archive cannot be imported; nothing was changed. */
export class ErrImportArchive extends MetadataError {
  static readonly code = 'ERR_IMPORT_ARCHIVE';
  readonly reason: ImportArchiveReason;
  constructor(reason: ImportArchiveReason, message: string, options?: { cause?: unknown }) {
    super(ErrImportArchive.code, message, options);
    this.reason = reason;
  }
}
