// The wire section's bar chart, drawn by gnuplot (Debian package `gnuplot-nox`) from a data file:
// bytes on the wire per delivered reading, stacked by where they come from.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface ChartRow { label: string; payload: number; protocol: number; tcpip: number; hourKB: number }

export function gnuplotAvailable(): boolean {
  return !spawnSync('gnuplot', ['--version']).error;
}

/** Writes `file` (PNG); returns null, or why it could not. */
export function drawChart(rows: ChartRow[], file: string, title: string): string | null {
  if (!gnuplotAvailable()) return 'gnuplot not found (apt-get install gnuplot-nox)';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-chart-'));
  const data = path.join(dir, 'wire.dat');
  fs.writeFileSync(data, '# label payload protocol tcpip hourKB\n'
    + rows.map((r) => ['"' + r.label + '"', r.payload.toFixed(1), r.protocol.toFixed(1), r.tcpip.toFixed(1), r.hourKB.toFixed(0)].join(' ')).join('\n') + '\n');
  const max = Math.max(...rows.map((r) => r.payload + r.protocol + r.tcpip));
  const script = `
set terminal pngcairo size 1100,620 font "DejaVu Sans,11"
set output '${file.replace(/'/g, "''")}'
set title "${title.replace(/"/g, '\\"')}"
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.7
set key top right box opaque
set ylabel "bytes on the wire per delivered reading (both directions)"
set yrange [0:${Math.ceil((max * 1.18) / 100) * 100}]
set grid ytics
set xtics rotate by -25 scale 0 font ",10"
set label 1 "labels above the bars: kB per client per hour, keep-alive included" at graph 0.01, graph 0.96 left font ",9"
plot '${data}' using 2:xtic(1) title "payload (24 B reading)" lc rgb "#4c9a2a", \\
     '' using 3 title "protocol overhead (HTTP, WebSocket, MQTT)" lc rgb "#e0a526", \\
     '' using 4 title "TCP/IP headers (IPv4 + TCP + timestamps)" lc rgb "#5b7fb8", \\
     '' using 0:($2+$3+$4):(sprintf("%.0f B\\n%s kB/h", $2+$3+$4, gprintf("%.0f", $5))) with labels offset 0,1.4 font ",9" notitle
`;
  const r = spawnSync('gnuplot', [], { input: script, encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) return 'gnuplot failed: ' + r.stderr;
  return null;
}
