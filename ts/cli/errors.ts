/** A failure the user caused or can fix: printed without a stack trace, exits with exitCode. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
