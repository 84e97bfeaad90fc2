// Where the numbers came from. Rates depend on the CPU and on V8, so every report starts with both.
import * as fs from 'fs';
import * as os from 'os';

export interface Machine {
  cpu: string;
  cores: number;
  memory: string;
  node: string;
  v8: string;
  os: string;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus.length ? cpus[0].model.trim() : 'unknown',
    cores: cpus.length,
    memory: (os.totalmem() / 2 ** 30).toFixed(1) + ' GiB',
    node: process.version,
    v8: process.versions.v8,
    os: distribution() + ' (' + os.type() + ' ' + os.release() + ', ' + os.arch() + ')',
  };
}

/** The Linux distribution's own name when there is one; os.release() alone is only the kernel. */
function distribution(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'));
    if (m) return m[1];
  } catch { /* not Linux, or no os-release */ }
  return os.platform();
}

/** Markdown lines for the top of a report. */
export function describeMachine(m: Machine): string {
  return [
    '- CPU: ' + m.cpu + ', ' + m.cores + ' logical cores',
    '- Memory: ' + m.memory,
    '- Node: ' + m.node + ' (V8 ' + m.v8 + ')',
    '- OS: ' + m.os,
  ].join('\n');
}
