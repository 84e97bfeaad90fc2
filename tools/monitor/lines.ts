// Console bytes to lines, for people and for parsers. A console is a terminal stream: \r returns to
// the start of the line (Espruino takes its prompt off that way before printing), escape sequences
// move the cursor, and a cable pulled mid-line leaves half a line. Nothing here throws on any input.

/** Splits a byte stream into lines; a partial line is handed out after `idleMs` of silence. */
export class LineSplitter {
  private partial = '';
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly onLine: (line: string, complete: boolean) => void, private readonly idleMs = 500) {}

  push(chunk: Buffer | string): void {
    const text = this.partial + (typeof chunk === 'string' ? chunk : chunk.toString('latin1'));
    const parts = text.split('\n');
    this.partial = parts.pop() || '';
    for (const p of parts) this.onLine(p, true);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.partial) this.timer = setTimeout(() => this.flush(), this.idleMs);
  }

  /** Hands out what is left of a line (at idle or when the port goes away). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const rest = this.partial;
    this.partial = '';
    // a bare prompt waiting for input is not a line
    if (rest && visible(rest) !== '>') this.onLine(rest, false);
  }
}

/**
 * What a terminal would show for a line: the text after the last carriage return, without escape
 * sequences, with bytes that are not printable shown as \xNN (so garbage stays visible and harmless).
 */
export function visible(line: string): string {
  let s = line.replace(/\r+$/, '');
  const cr = s.lastIndexOf('\r');
  if (cr >= 0) s = s.substring(cr + 1);
  s = s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '');
  return s.replace(/[\x00-\x08\x0b-\x1f\x7f-\xff]/g, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}
