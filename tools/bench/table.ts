// Markdown tables, padded so that they also read well as plain text on a terminal.

export type Align = 'left' | 'right';

export function markdownTable(header: string[], rows: string[][], align?: Align[]): string {
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] || ''))));
  const cell = (text: string, i: number) => {
    const pad = ' '.repeat(widths[i] - width(text));
    return align && align[i] === 'right' ? pad + text : text + pad;
  };
  const line = (cells: string[]) => '| ' + cells.map(cell).join(' | ') + ' |';
  const rule = '|' + widths.map((w, i) => (align && align[i] === 'right' ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|';
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** Printed width: code points, so that "–", "×" and "✅" do not throw the padding off by their UTF-16 length. */
function width(s: string): number {
  let n = 0;
  for (const ch of s) n += ch.codePointAt(0)! >= 0x2600 ? 2 : 1; // emoji take two terminal columns
  return n;
}
