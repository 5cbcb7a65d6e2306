// Typed errors of the content store. Each class has a stable `code` (also on the class as
// `static code`); callers switch on `err.code` or `instanceof`, never on the message. The
// facts travel in fields (`digest`, `ref`, `expected`, `actual`, `path`), the cause in `cause`.
// containerd maps these to errdefs: NotFound, AlreadyExists, Unavailable (locked),
// InvalidArgument (digest, ref, filter), FailedPrecondition (size, digest, closed writer).

export class ContentError extends Error {
  static readonly code: string = 'ERR_CONTENT';
  readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = (new.target as typeof ContentError).code;
  }
}

/** No blob with this digest, or no ingest with this ref. */
export class ContentNotFoundError extends ContentError {
  static override readonly code = 'ERR_CONTENT_NOT_FOUND';
  readonly digest: string | undefined;
  readonly ref: string | undefined;
  constructor(message: string, facts: { digest?: string; ref?: string; cause?: unknown } = {}) {
    super(message, { cause: facts.cause });
    this.digest = facts.digest;
    this.ref = facts.ref;
  }
}

/** The blob exists already (on writer open with an expected digest, or on commit). */
export class ContentAlreadyExistsError extends ContentError {
  static override readonly code = 'ERR_CONTENT_ALREADY_EXISTS';
  readonly digest: string;
  constructor(digest: string) {
    super(`content ${digest}: already exists`);
    this.digest = digest;
  }
}

/** Another writer holds the ref: in this process (`holder: 'process'`) or another one (flock). */
export class ContentLockedError extends ContentError {
  static override readonly code = 'ERR_CONTENT_LOCKED';
  readonly ref: string;
  readonly holder: 'process' | 'other-process';
  constructor(ref: string, holder: 'process' | 'other-process') {
    super(`ref ${JSON.stringify(ref)} locked: a writer is already open ${holder === 'process' ? 'in this process' : 'in another process'}`);
    this.ref = ref;
    this.holder = holder;
  }
}

/** Why a digest string was refused; the same classes as go-digest's errors. */
export type InvalidDigestReason = 'format' | 'unsupported' | 'length' | 'encoding';

/** A digest that go-digest would refuse: bad format, unknown algorithm, wrong length, non-lowercase-hex. */
export class InvalidDigestError extends ContentError {
  static override readonly code = 'ERR_INVALID_DIGEST';
  /** The refused input, cut to 200 characters. */
  readonly digest: string;
  readonly reason: InvalidDigestReason;
  constructor(digest: string, reason: InvalidDigestReason, detail: string) {
    const shown = digest.length > 200 ? `${digest.slice(0, 200)}...` : digest;
    super(`invalid digest ${JSON.stringify(shown)}: ${detail}`);
    this.digest = shown;
    this.reason = reason;
  }
}

/** The committed size differs from the bytes written. Nothing is committed; the ingest stays. */
export class ContentSizeMismatchError extends ContentError {
  static override readonly code = 'ERR_CONTENT_SIZE_MISMATCH';
  readonly expected: number;
  readonly actual: number;
  constructor(expected: number, actual: number) {
    super(`unexpected commit size ${actual}, expected ${expected}`);
    this.expected = expected;
    this.actual = actual;
  }
}

/** The bytes written do not hash to the expected digest. Nothing is committed; the ingest stays. */
export class ContentDigestMismatchError extends ContentError {
  static override readonly code = 'ERR_CONTENT_DIGEST_MISMATCH';
  readonly expected: string;
  readonly actual: string;
  constructor(expected: string, actual: string) {
    super(`unexpected commit digest ${actual}, expected ${expected}`);
    this.expected = expected;
    this.actual = actual;
  }
}

/** A ref that is empty, too long, not well-formed UTF-16/UTF-8, or holds NUL. */
export class InvalidRefError extends ContentError {
  static override readonly code = 'ERR_INVALID_REF';
  /** The refused ref, cut to 200 characters. */
  readonly ref: string;
  constructor(ref: string, detail: string) {
    const shown = ref.length > 200 ? `${ref.slice(0, 200)}...` : ref;
    super(`invalid ref ${JSON.stringify(shown)}: ${detail}`);
    this.ref = shown;
  }
}

/** A blob path that leads out of the store root (a symlink) or is not a regular file. */
export class ContentUnsafePathError extends ContentError {
  static override readonly code = 'ERR_CONTENT_UNSAFE_PATH';
  readonly path: string;
  constructor(path: string, detail: string) {
    super(`unsafe content path ${path}: ${detail}`);
    this.path = path;
  }
}

/** A filter string that does not parse (containerd's filter syntax); the message is containerd's text. */
export class InvalidFilterError extends ContentError {
  static override readonly code = 'ERR_INVALID_FILTER';
  readonly filter: string;
  constructor(message: string, filter: string) {
    super(message);
    this.filter = filter;
  }
}

/** An operation the writer or store cannot do in its state: write after close/commit/abort, labels without a label store. */
export class ContentPreconditionError extends ContentError {
  static override readonly code = 'ERR_CONTENT_PRECONDITION';
}

/** An ingest file containerd keeps (`ref`, `startedat`, `updatedat`, `data`) that cannot be what containerd wrote. */
export class ContentCorruptError extends ContentError {
  static override readonly code: string = 'ERR_CONTENT_CORRUPT';
  readonly path: string;
  constructor(path: string, detail: string) {
    super(`${path}: ${detail}`);
    this.path = path;
  }
}

/**
 * An ingest timestamp file whose text Go's Time.UnmarshalText refuses. The message is containerd's:
 * "could not parse timestamp file <path>: <Go's ParseError text>", and once readStatus names the
 * file, "could not read startedat: " before it.
 */
export class ContentTimestampError extends ContentCorruptError {
  // The code stays ERR_CONTENT_CORRUPT: only the message differs.
  constructor(path: string, detail: string, whole = false) {
    super(path, detail);
    this.message = whole ? detail : `could not parse timestamp file ${path}: ${detail}`;
  }
}

/** An invalid argument other than a digest or ref (a negative offset, a bad size). */
export class ContentInvalidArgumentError extends ContentError {
  static override readonly code = 'ERR_CONTENT_INVALID_ARGUMENT';
}
