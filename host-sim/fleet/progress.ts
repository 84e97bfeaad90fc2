// Live progress of a run. On a TTY: one block of lines rewritten in place. Otherwise (a pipe, a CI
// log): one plain line per interval, which stays readable when it is all that is left of a run.
import type { Snapshot } from './fleet';
import type { LatencyHistogram } from './latency';

export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

export class Progress {
  private last: Snapshot | null = null;
  private lastHist: LatencyHistogram | null = null;
  private drawn = 0;

  /** `latency` null: the workload has no latency to show (--app readings carry no time stamp). */
  constructor(private readonly out: ProgressSink, private readonly latency: LatencyHistogram | null, private readonly tty = !!out.isTTY) {}

  update(s: Snapshot): void {
    // rates per second of the fleet's time (simulated seconds in a virtual run)
    const dt = this.last ? (s.time - this.last.time) / 1000 : 0;
    const rate = (now: number, before: number) => (dt > 0 ? Math.round((now - before) / dt) : 0);
    const window = this.latency ? (this.lastHist ? this.latency.minus(this.lastHist) : this.latency) : null;
    const p50 = window ? window.percentile(0.5).toFixed(1) : '', p99 = window ? window.percentile(0.99).toFixed(1) : '';
    const out = rate(s.published, this.last ? this.last.published : 0);
    const inn = rate(s.received, this.last ? this.last.received : 0);
    const time = formatTime(s.time) + (s.draining ? ' draining' : '');
    if (this.tty) {
      const block = [
        `sim ${time}   boards ${s.boards}: ${s.states.connected} connected, ${s.states.connecting} connecting, ${s.states.backoff} backing off`,
        `msgs/s out ${out}  in ${inn}   in-flight ${s.inflight}  queued ${s.queued}   reconnects ${s.reconnects}`,
        (window ? `latency p50 ${p50} ms  p99 ${p99} ms   ` : '') + `total out ${s.published}  in ${s.received}`,
      ];
      // move up over the previous block and clear each line before rewriting it
      this.out.write((this.drawn ? `\x1b[${this.drawn}A` : '') + block.map((l) => '\x1b[2K' + l + '\n').join(''));
      this.drawn = block.length;
    } else {
      this.out.write(`t=${time} connected=${s.states.connected} connecting=${s.states.connecting} backoff=${s.states.backoff} ` +
        `out/s=${out} in/s=${inn} inflight=${s.inflight} queued=${s.queued} reconnects=${s.reconnects}` + (window ? ` p50=${p50}ms p99=${p99}ms` : '') + '\n');
    }
    this.last = s;
    this.lastHist = this.latency ? this.latency.copy() : null;
  }
}

/** "1h02m03s" for ms of simulated time. */
export function formatTime(ms: number): string {
  const s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return (h ? h + 'h' + String(m).padStart(2, '0') + 'm' : m ? m + 'm' : '') + String(s % 60).padStart(h || m ? 2 : 1, '0') + 's';
}
