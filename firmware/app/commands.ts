// Commands a board obeys, received as text on `<prefix>/<id>/cmd`: "<name>" or "<name> <argument>".
// A table, so a new command is one entry, and the app stays the only place that touches the client.

/** What commands may do to the app. */
export interface CommandTarget {
  /** Publishes at QoS 1 to `<prefix>/<id>/<level>`. */
  publish(level: string, payload: string): void;
  /** Sets and stores the sampling interval; returns why not, or ''. */
  setInterval(seconds: number): string;
  /** The status line object, as JSON. */
  stats(): string;
  reboot(): void;
}

const COMMANDS: { [name: string]: (t: CommandTarget, arg: string) => string | void } = {
  ping: (t, arg) => t.publish('pong', arg),
  interval: (t, arg) => t.setInterval(parseFloat(arg)),
  stats: (t) => t.publish('stats', t.stats()),
  reboot: (t) => t.reboot(),
};

/** Runs one command; returns why it failed, or ''. */
export function runCommand(text: string, t: CommandTarget): string {
  // split by hand: Espruino's regular expressions are a small engine, best kept to simple patterns
  const s = text.trim(), space = s.indexOf(' ');
  const name = space < 0 ? s : s.substring(0, space);
  if (!COMMANDS.hasOwnProperty(name)) return 'unknown command: ' + s;
  return COMMANDS[name](t, space < 0 ? '' : s.substring(space + 1).trim()) || '';
}
