// Waiting for events with a bound, never for a fixed time.

/** Resolves when `check()` is true, polling every few ms; rejects with `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out after ' + ms + ' ms waiting for ' + what);
    await new Promise((r) => setTimeout(r, 5));
  }
}
