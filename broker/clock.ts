// The broker's one source of time. Keepalive, connect and will-delay timers, session and message
// expiry, $SYS uptime and log stamps all go through the Clock in the broker's options, so the simulator
// can run the broker on virtual time (hours of a fleet in seconds, the same run for the same seed)
// while a standalone broker runs on Node's. This file is the only one in broker/ that touches
// Node's timers or Date.now().

/** A pending timer, opaque: only the clock that made it can clear it. */
export type Timer = unknown;

export interface Clock {
  /** Milliseconds since the Unix epoch, like Date.now(): expiry instants are stored across restarts. */
  now(): number;
  /** Calls `fn` once, `ms` from now. */
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(timer: Timer): void;
  /**
   * Calls `fn` once the input of the current turn has been handled, before time moves on. The broker
   * batches its writes this way: every packet a turn's reads produce goes out in one write per client.
   */
  defer(fn: () => void): void;
}

/**
 * Node fires a timer whose delay is over 2^31-1 ms (24.8 days) after 1 ms. Session expiry, message
 * expiry and will delays may be up to 2^32-1 s, so longer timers wait in steps of at most this.
 */
export const MAX_NODE_DELAY = 0x7fffffff;

/** Node's timers for delays of any length: a chain of steps of at most `maxStep` ms towards one deadline. */
export function nodeTimers(maxStep = MAX_NODE_DELAY): Pick<Clock, 'setTimeout' | 'clearTimeout'> {
  interface LongTimer { step: NodeJS.Timeout | null }
  return {
    setTimeout(fn, ms) {
      const delay = ms > 0 ? ms : 0, deadline = Date.now() + delay;
      const timer: LongTimer = { step: null };
      // a step may end a millisecond before Date.now() reaches the deadline (libuv's clock is not
      // Date's): the timer fires only once the deadline has passed, so never early
      const arm = () => {
        const left = deadline - Date.now();
        if (left <= 0) { timer.step = null; fn(); } else timer.step = setTimeout(arm, Math.min(left, maxStep)).unref();
      };
      timer.step = setTimeout(arm, Math.min(delay, maxStep)).unref();
      return timer;
    },
    clearTimeout(timer) {
      const t = timer as LongTimer | null | undefined;
      if (t && t.step) clearTimeout(t.step);
    },
  };
}

/** Node's clock. Its timers are unref'd: a broker's housekeeping never keeps the process alive. */
export const nodeClock: Clock = {
  now: () => Date.now(),
  ...nodeTimers(),
  // setImmediate runs right after the poll phase, once every socket read of the turn is handled,
  // so batching adds no timer delay
  defer: (fn) => { setImmediate(fn); },
};
