// Counting bytes on the wire, two ways.
//
// 1. Capture: dumpcap (Debian package `tshark`, or `wireshark-common` which holds dumpcap) records the
//    loopback interface with a BPF filter on the server's port into a pcap file, headers only (snaplen
//    128 holds any IPv4 + TCP header). The file is read here: for every segment its capture time, its
//    4-tuple, TCP flags, the IP total length (IP header + TCP header + payload, what the kernel put on
//    the wire; the 14-byte fake Ethernet header of `lo` is not counted) and the TCP payload length (the
//    application's bytes). dumpcap's own drop counters are parsed, so a lossy capture is reported.
// 2. Kernel: `ss -tinH` gives, per socket, bytes_sent / bytes_received (payload) and segs_out / segs_in
//    (segments, pure ACKs included). Summed over the client ends of the connections this is an
//    independent count that needs no capture privileges; it is used as a cross-check of the capture
//    and as the fallback when dumpcap cannot capture. It does not see headers, so they are estimated.
import { ChildProcess, execFile, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';

export const TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10;

export interface Segment {
  /** Capture time, microseconds since the epoch. */
  t: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  flags: number;
  /** TCP sequence number: a data segment sent again under the same one is a retransmission. */
  seq: number;
  /** IP total length: IP header + TCP header (with options) + payload. */
  ip: number;
  /** IP header + TCP header, options included. */
  headers: number;
  /** TCP payload, the application's bytes. */
  payload: number;
}

/** Reads a classic pcap file (what `dumpcap -P` writes) into IPv4/TCP segments. */
export function readPcap(file: string): Segment[] {
  const b = fs.readFileSync(file);
  if (b.length < 24) return [];
  const magic = b.readUInt32LE(0);
  let le: boolean, nano: boolean;
  if (magic === 0xa1b2c3d4) { le = true; nano = false; }
  else if (magic === 0xa1b23c4d) { le = true; nano = true; }
  else if (b.readUInt32BE(0) === 0xa1b2c3d4) { le = false; nano = false; }
  else if (b.readUInt32BE(0) === 0xa1b23c4d) { le = false; nano = true; }
  else throw new Error(file + ': not a pcap file (pcapng? capture with dumpcap -P)');
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const linkType = u32(20);
  const linkHeader = linkType === 1 ? 14 : linkType === 113 ? 16 : linkType === 0 ? 4 : -1;
  if (linkHeader < 0) throw new Error(file + ': link type ' + linkType + ' not supported');
  const out: Segment[] = [];
  let o = 24;
  while (o + 16 <= b.length) {
    const sec = u32(o), frac = u32(o + 4), incl = u32(o + 8);
    const p = o + 16;
    o = p + incl;
    if (o > b.length) break; // truncated last record (capture stopped mid-write)
    const ip = p + linkHeader;
    if (ip + 20 > o || b[ip] >> 4 !== 4 || b[ip + 9] !== 6) continue; // IPv4 TCP only
    const ihl = (b[ip] & 15) * 4;
    const total = b.readUInt16BE(ip + 2);
    const tcp = ip + ihl;
    if (tcp + 14 > o) continue;
    const doff = (b[tcp + 12] >> 4) * 4;
    out.push({
      t: sec * 1e6 + (nano ? Math.floor(frac / 1000) : frac),
      src: b[ip + 12] + '.' + b[ip + 13] + '.' + b[ip + 14] + '.' + b[ip + 15],
      dst: b[ip + 16] + '.' + b[ip + 17] + '.' + b[ip + 18] + '.' + b[ip + 19],
      sport: b.readUInt16BE(tcp),
      dport: b.readUInt16BE(tcp + 2),
      flags: b[tcp + 13],
      seq: b.readUInt32BE(tcp + 4),
      ip: total,
      headers: ihl + doff,
      payload: total - ihl - doff,
    });
  }
  return out;
}

export interface CaptureStats { received: number; dropped: number; text: string }

/** A running dumpcap. */
export class Capture {
  private stderr = '';
  private exited: Promise<number | null>;

  private constructor(readonly file: string, private child: ChildProcess) {
    child.stderr!.on('data', (d) => { this.stderr += d; });
    this.exited = new Promise((r) => child.on('exit', (code) => r(code)));
  }

  /** Whether dumpcap exists and may capture on lo (root, or CAP_NET_RAW on dumpcap). */
  static available(): { ok: boolean; why: string } {
    const r = spawnSync('dumpcap', ['-D'], { encoding: 'utf8' });
    if (r.error) return { ok: false, why: 'dumpcap not found (apt-get install tshark)' };
    if (r.status !== 0 || !/\blo\b/.test(r.stdout)) return { ok: false, why: 'dumpcap cannot list lo: ' + (r.stderr || '').trim().split('\n')[0] };
    return { ok: true, why: '' };
  }

  /** Starts capturing TCP on lo that matches `filter` (BPF); resolves once packets are being recorded. */
  static async start(file: string, filter: string): Promise<Capture> {
    try { fs.unlinkSync(file); } catch { /* none */ }
    const child = spawn('dumpcap', ['-i', 'lo', '-f', filter, '-s', '128', '-B', '256', '-P', '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    const c = new Capture(file, child);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('dumpcap did not start: ' + c.stderr)), 10000);
      const check = () => { if (/File: /.test(c.stderr)) { clearTimeout(t); child.stderr!.off('data', check); resolve(); } };
      child.stderr!.on('data', check);
      child.on('exit', () => { clearTimeout(t); reject(new Error('dumpcap exited: ' + c.stderr)); });
    });
    await new Promise((r) => setTimeout(r, 300)); // the filter is attached before "File:", the margin is for the ring buffer
    return c;
  }

  /** Stops the capture (SIGINT, so that dumpcap flushes and prints its counters); returns them. */
  async stop(): Promise<CaptureStats> {
    this.child.kill('SIGINT');
    await this.exited;
    // "Packets received/dropped on interface 'lo': 1234/0 (pcap:0/dumpcap:0/flushed:0/ps_ifdrop:0)"
    const m = /received\/dropped on interface '[^']*': (\d+)\/(\d+)/.exec(this.stderr);
    return { received: m ? Number(m[1]) : -1, dropped: m ? Number(m[2]) : -1, text: this.stderr.trim() };
  }
}

export interface KernelCounts {
  sockets: number;
  /** Payload bytes and segments sent by the sockets selected (their segs include SYN and pure ACKs). */
  bytesSent: number;
  bytesReceived: number;
  segsOut: number;
  segsIn: number;
}

/**
 * Per-socket kernel counters summed over the established TCP sockets from `source` (an address or a
 * prefix) to 127.0.0.1:`port`: the client ends of the connections. Sockets already closed are not seen.
 */
export function kernelCounts(port: number, source = '127.0.0.0/8'): Promise<KernelCounts> {
  return new Promise((resolve, reject) => {
    execFile('ss', ['-tinH', 'state', 'established', 'dst', '127.0.0.1:' + port, 'src', source], { maxBuffer: 1 << 28 }, (err, out) => {
      if (err) return reject(err);
      const k: KernelCounts = { sockets: 0, bytesSent: 0, bytesReceived: 0, segsOut: 0, segsIn: 0 };
      const num = (line: string, key: string) => { const m = new RegExp('\\b' + key + ':(\\d+)').exec(line); return m ? Number(m[1]) : 0; };
      for (const line of out.split('\n')) {
        if (!/segs_out:/.test(line)) continue;
        k.sockets++;
        k.bytesSent += num(line, 'bytes_sent');
        k.bytesReceived += num(line, 'bytes_received');
        k.segsOut += num(line, 'segs_out');
        k.segsIn += num(line, 'segs_in');
      }
      resolve(k);
    });
  });
}

export function kernelDelta(a: KernelCounts, b: KernelCounts): KernelCounts {
  return { sockets: b.sockets, bytesSent: b.bytesSent - a.bytesSent, bytesReceived: b.bytesReceived - a.bytesReceived, segsOut: b.segsOut - a.segsOut, segsIn: b.segsIn - a.segsIn };
}
