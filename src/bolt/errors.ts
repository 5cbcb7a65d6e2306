// Typed errors of the bolt engine. Each class has a stable `code`; callers switch on
// `err.code` (or `instanceof`), never on the message. Grouped by phase as bbolt's errors.go.

export class BoltError extends Error {
  static readonly code: string = 'ERR_BOLT';
  readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = (new.target as typeof BoltError).code;
  }
}

function define(name: string, code: string, message: string) {
  const cls = class extends BoltError {
    static override readonly code = code;
    constructor(msg: string = message, options?: { cause?: unknown }) {
      super(msg, options);
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

// --- open / database errors -------------------------------------------------
/** The database is not open (closed, or never opened). */
export const ErrDatabaseNotOpen = define('ErrDatabaseNotOpen', 'ERR_DATABASE_NOT_OPEN', 'database not open');
/** Both meta pages are invalid (bad magic); the file is not a bolt database. */
export const ErrInvalid = define('ErrInvalid', 'ERR_INVALID', 'invalid database');
/** The meta page's version is not 2. */
export const ErrVersionMismatch = define('ErrVersionMismatch', 'ERR_VERSION_MISMATCH', 'version mismatch');
/** The meta page's checksum does not match its contents. */
export const ErrChecksum = define('ErrChecksum', 'ERR_CHECKSUM', 'checksum error');
/** The file lock could not be taken within Options.timeout. */
export const ErrTimeout = define('ErrTimeout', 'ERR_TIMEOUT', 'timeout');
/** A write was attempted on a database opened read-only. */
export const ErrDatabaseReadOnly = define('ErrDatabaseReadOnly', 'ERR_DATABASE_READ_ONLY', 'database is in read-only mode');
/** The file is shorter than two pages or otherwise too small to hold a database. */
export const ErrFileTooSmall = define('ErrFileTooSmall', 'ERR_FILE_TOO_SMALL', 'file size too small');

// --- transaction errors -----------------------------------------------------
export const ErrTxNotWritable = define('ErrTxNotWritable', 'ERR_TX_NOT_WRITABLE', 'tx not writable');
export const ErrTxClosed = define('ErrTxClosed', 'ERR_TX_CLOSED', 'tx closed');
/** The callback of update/view tried to commit or roll back the managed transaction. */
export const ErrManagedTx = define('ErrManagedTx', 'ERR_MANAGED_TX', 'managed tx commit/rollback not allowed');

// --- bucket / key errors ----------------------------------------------------
export const ErrBucketNotFound = define('ErrBucketNotFound', 'ERR_BUCKET_NOT_FOUND', 'bucket not found');
export const ErrBucketExists = define('ErrBucketExists', 'ERR_BUCKET_EXISTS', 'bucket already exists');
export const ErrBucketNameRequired = define('ErrBucketNameRequired', 'ERR_BUCKET_NAME_REQUIRED', 'bucket name required');
export const ErrKeyRequired = define('ErrKeyRequired', 'ERR_KEY_REQUIRED', 'key required');
export const ErrKeyTooLarge = define('ErrKeyTooLarge', 'ERR_KEY_TOO_LARGE', 'key too large');
export const ErrValueTooLarge = define('ErrValueTooLarge', 'ERR_VALUE_TOO_LARGE', 'value too large');
/** A bucket was used where a value is stored, or a value where a bucket is. */
export const ErrIncompatibleValue = define('ErrIncompatibleValue', 'ERR_INCOMPATIBLE_VALUE', 'incompatible value');

/**
 * The file's structure is broken at a known place: a page id past the end, a page of the
 * wrong type, a cycle, an element pointing outside its page. `pgid` names the page.
 */
export class CorruptionError extends BoltError {
  static override readonly code = 'ERR_CORRUPTION';
  readonly pgid: number | undefined;
  constructor(message: string, pgid?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.pgid = pgid;
  }
}

/** The operating system refused a file operation (open, read, write, sync, lock). */
export class BoltIOError extends BoltError {
  static override readonly code = 'ERR_IO';
  readonly syscall: string | undefined;
  constructor(message: string, options?: { cause?: unknown; syscall?: string }) {
    super(message, options);
    this.syscall = options?.syscall;
  }
}

export type BoltErrorClass = typeof BoltError;

/**
 * A second write transaction was begun while one is open in this process. bbolt blocks
 * here (and deadlocks when the same goroutine asks); JavaScript is single-threaded, so the
 * second writer could never proceed: it gets this error instead.
 */
export const ErrWriterBusy = define('ErrWriterBusy', 'ERR_WRITER_BUSY', 'a write transaction is already open');
/** An option has a value the engine does not support. */
export const ErrInvalidOption = define('ErrInvalidOption', 'ERR_INVALID_OPTION', 'invalid option');
/**
 * An invariant of the engine itself broke (where bbolt panics): a bug in the engine, not bad
 * input and not a damaged file (those are the other errors and CorruptionError). The message
 * names the invariant.
 */
export const ErrInternal = define('ErrInternal', 'ERR_INTERNAL', 'internal error');

/**
 * A lock-free read could not get a consistent snapshot: a writer committed during every
 * attempt. `attempts` says how many were made.
 */
export class ErrSnapshotUnstable extends BoltError {
  static override readonly code = 'ERR_SNAPSHOT_UNSTABLE';
  readonly attempts: number;
  constructor(attempts: number) {
    super(`no consistent snapshot after ${attempts} attempts: the database kept changing while it was read`);
    this.attempts = attempts;
  }
}
