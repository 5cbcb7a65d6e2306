// A reader that stops early (`tsctr images ls | head`, `tsbolt keys DB b | head -1`) closes the
// pipe under our stdout. Go's ctr and bbolt are then ended by SIGPIPE, quietly; Node ignores
// SIGPIPE and reports the failed write as an 'error' event, which uncaught would print a stack
// trace. The launchers end the process as SIGPIPE would instead: no output, exit status 141
// (128 + SIGPIPE), what a shell reports for the Go tools.

export const EXIT_SIGPIPE = 128 + 13;

/** Ends the process with EXIT_SIGPIPE when a write to stdout fails because its reader went away. */
export function endOnClosedStdout(stdout: NodeJS.WriteStream = process.stdout, exit: (code: number) => void = (c) => process.exit(c)): void {
  stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') exit(EXIT_SIGPIPE);
    else throw e;
  });
}
