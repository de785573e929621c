/**
 * A mistake on the command line: a bad flag or argument, or a command run where it cannot work
 * (reset while minik runs). The one catch in main.ts prints its message as one line, never as an
 * answer "from server", and exits 1.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
