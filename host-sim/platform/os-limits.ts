// The operating system's limits a fleet runs into over real TCP: open files per process (every socket is
// one), the system's file table, local addresses and ports. A run that hits one must stop and say which,
// not retry for ever: a board that cannot get a socket would only try again and fail the same way.
import * as fs from 'fs';

/** Socket errors that mean the host, not the network or the broker, is out of something. */
export const OS_LIMITS: { [code: string]: string } = {
  EMFILE: 'this process reached its open-files limit (ulimit -n)',
  ENFILE: 'the system\'s open-file table is full',
  EADDRNOTAVAIL: 'no local address and port left to connect from',
  ENOBUFS: 'the kernel has no socket buffers left',
};

/** File descriptors a simulator process keeps beside its boards' sockets: stdio, bundles, the checker, listeners, IPC. */
export const RESERVED_FILES = 100;

/** Error of a run stopped by an OS limit; `code` is the errno name. */
export class OsLimitError extends Error {
  constructor(readonly code: string, detail: string) {
    super(`${code}: ${OS_LIMITS[code]} (${detail}); the run stops here`);
  }
}

/** The errno name of an OS-limit error, or null for any other error. */
export function osLimitCode(e: unknown): string | null {
  const code = e && (e as NodeJS.ErrnoException).code;
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(OS_LIMITS, code) ? code : null;
}

/** This process's soft limit of open files, from /proc/self/limits; null where that cannot be read. */
export function openFilesLimit(limits = '/proc/self/limits'): number | null {
  let text: string;
  try {
    text = fs.readFileSync(limits, 'utf8');
  } catch {
    return null;
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  return m && m[1] !== 'unlimited' ? +m[1] : null;
}

/** Boards one process can hold: one socket each, two when the broker they talk to runs in the same process. */
export function boardsPerProcess(openFiles: number, brokerInProcess: boolean): number {
  return Math.max(0, Math.floor((openFiles - RESERVED_FILES) / (brokerInProcess ? 2 : 1)));
}
