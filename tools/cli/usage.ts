// A usage error: bad flags, found before any work starts. The dispatch (main.ts) prints it as one line
// and a hint to the command's help, and exits 2.
export class UsageError extends Error {}
