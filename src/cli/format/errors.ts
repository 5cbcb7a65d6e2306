// Errors of the tsbolt CLI. Their messages are the texts bbolt 1.3.7's CLI prints for the same
// case (main.go's sentinel errors and fmt.Errorf texts), or our own one-line text where Go would
// panic, crash or hang. The CLI prints `message` and exits with `exitCode`.

export class CliError extends Error {
  static readonly code: string = 'ERR_CLI';
  readonly code: string;
  readonly exitCode: number;
  constructor(message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = (new.target as typeof CliError).code;
    this.exitCode = options?.exitCode ?? 1;
  }
}

/** A usage text was printed; exit status 2 and nothing more (bbolt's ErrUsage). */
export class UsageError extends CliError {
  static override readonly code = 'ERR_USAGE';
  constructor() {
    super('usage', { exitCode: 2 });
  }
}

/** What ctr returns as its error: tsctr prints "ctr: <message>" and exits 1. */
export class CtrCommandError extends CliError {
  static override readonly code = 'ERR_CTR_COMMAND';
}

/**
 * A command line of tsctr's own (gc, doctor, sandboxes, --salvage on a write) that does not parse: "ctr: <message>",
 * exit 2. Usage errors of ctr's commands are answered as ctr answers them, by cli/ctr/usage.ts.
 */
export class CtrUsageError extends CliError {
  static override readonly code = 'ERR_CTR_USAGE';
  constructor(message: string) {
    super(message, { exitCode: 2 });
  }
}

// main.go's sentinel errors, by their exact text.
export const ERR_UNKNOWN_COMMAND = 'unknown command';
export const ERR_PATH_REQUIRED = 'path required';
export const ERR_FILE_NOT_FOUND = 'file not found';
export const ERR_INVALID_VALUE = 'invalid value';
export const ERR_NON_DIVISIBLE_BATCH_SIZE = 'number of iterations must be divisible by the batch size';
export const ERR_PAGE_ID_REQUIRED = 'page id required';
export const ERR_BUCKET_REQUIRED = 'bucket required';
export const ERR_BUCKET_NOT_FOUND = 'bucket not found';
export const ERR_KEY_REQUIRED = 'key required';
export const ERR_KEY_NOT_FOUND = 'key not found';
/** guts_cli.ErrCorrupt: check found problems; also used in page-read errors. */
export const ERR_CORRUPT = 'invalid value';
