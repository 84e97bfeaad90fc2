// The sensor application: config from Storage, then Wi-Fi, then MQTT with a retained birth and will;
// readings every interval at QoS 1; commands; telemetry lines on the console. Closures rather than a
// class: the minifier renames locals but not properties, and code size is JsVars on a board.
import { connect, MqttClient } from '../client';
import { utf8Read } from '../mqtt/utf8';
import type { Platform } from '../platform';
import { withWebSocket } from '../transports/websocket';
import { VERSION } from '../version';
import { runCommand } from './commands';
import { CONFIG_FILE, Config, configError, defaults, merge, publicConfig, readConfig, secondsError } from './config';
import { discoveryMessage } from './discovery';
import { ConfigLine, formatLine, StatusLine } from './telemetry';

export interface App {
  /** Boots: reads the config, then joins Wi-Fi and the broker and starts sampling. Espruino's onInit. */
  start(): void;
  /** Ends the MQTT session cleanly (the broker drops the will) and clears every timer. */
  stop(): void;
  /**
   * Provisioning from the console: lays `changes` over the config (null resets a setting), and when
   * the result can run, stores it and restarts with it. Answers with a config line either way.
   */
  configure(changes: object): void;
  /** Prints the config as a config line, secrets masked. */
  config(): void;
  /** Prints a status line now. */
  status(): void;
}

/** Seconds before a failed Wi-Fi join is tried again. */
const WIFI_RETRY = 10;
/** Seconds a reboot waits at most for the broker to acknowledge the "offline" status. */
const REBOOT_GRACE = 2;

export function createApp(platform: Platform): App {
  // the full image reaches a ws:// broker itself; the small one leaves WebSocket out (sparrow.json says which broker)
  if (__WS__) withWebSocket(platform);
  // getSerial() may be a MAC with colons; the id is a topic level, so they go
  const base = defaults(platform.serial ? 'sparrow-' + platform.serial().split(':').join('') : 'sparrow');
  // without Storage the config lives in RAM until the next reset
  const files: { [name: string]: string } = {};
  const storage = platform.storage || { read: (name: string) => files[name], write: (name: string, text: string) => { files[name] = text; } };
  let config: Config = base;
  let client: MqttClient | null = null;
  let mqtt = 'off';
  let lastError: string | null = null;
  let started = platform.now();
  /** Bumped by stop(): callbacks of an older run (Wi-Fi, reboot) find it changed and do nothing. */
  let run = 0;
  const timers: { [name: string]: unknown } = {};

  function start(): void {
    stop();
    started = platform.now();
    const loaded = readConfig(storage, base);
    config = loaded.config;
    lastError = null;
    mqtt = loaded.error ? 'unconfigured' : 'off';
    line('boot');
    ticker();
    if (loaded.error) return fail(loaded.error);
    join(run);
  }

  function stop(): void {
    run++;
    for (const name in timers) disarm(name);
    const c = client;
    client = null;
    try {
      if (c) c.end(true); // at once: what is still held is given up with the app's run
    } catch (e) {
      // a client frozen by save() while connected has a dead socket; an error here must not stop onInit
    }
  }

  // Espruino's clearTimeout throws for a timer that already ran, and clears every timer when given
  // undefined, so only live handles are cleared.
  function arm(name: string, seconds: number, fn: () => void): void {
    disarm(name);
    timers[name] = platform.setTimeout(() => { timers[name] = undefined; fn(); }, seconds * 1000);
  }

  function disarm(name: string): void {
    if (timers[name] !== undefined) platform.clearTimeout(timers[name]);
    timers[name] = undefined;
  }

  function ticker(): void {
    if (config.telemetry) arm('tick', config.telemetry, () => { line('tick'); ticker(); });
  }

  function join(r: number): void {
    const wifi = platform.wifi;
    if (!wifi || !config.ssid) return online();
    wifi.connect(config.ssid, config.wifiPassword, (error) => {
      if (r !== run) return;
      line('wifi');
      if (!error) return online();
      fail('wifi: ' + error);
      arm('wifi', WIFI_RETRY, () => join(r));
    });
    line('wifi');
  }

  function topic(level: string): string {
    return config.prefix + '/' + config.id + '/' + level;
  }

  /** MQTT: the will and birth make `<prefix>/<id>/status` say whether the board is there, retained. */
  function online(): void {
    mqtt = 'connecting';
    const c = client = connect(platform, config.broker, {
      clientId: config.id, username: config.username || undefined, password: config.password || undefined,
      will: { topic: topic('status'), payload: 'offline', qos: 1, retain: true },
    });
    // the connect work waits for the CONNACK's receive to unwind: its chunk and packet are freed first,
    // which lowers the board's peak at every connect (measured: ~100 JsVars on the full image)
    const connected = (): void => {
      if (client !== c || !c.connected) return; // the link dropped, or the app stopped, in between
      mqtt = 'connected';
      c.publish(topic('status'), 'online', { qos: 1, retain: true });
      // Home Assistant discovery: a retained config per reading, at every connect (HA may have lost its own)
      if (__DISCOVERY__ && config.discovery) {
        const names = Object.keys(platform.sensors || {});
        if (config.pin && platform.analog) names.push('analog');
        for (let i = 0; i < names.length; i++) {
          const m = discoveryMessage(config, names[i], VERSION);
          c.publish(m[0], m[1], { qos: 1, retain: true });
        }
      }
      line('connected');
      // sampling starts once the broker has heard "online"; after that it runs on through any outage
      if (timers.sample === undefined) sample();
    };
    c.on('connect', () => arm('connected', 0, connected));
    c.on('offline', (reason) => {
      mqtt = 'offline';
      lastError = reason as string;
      line('offline');
    });
    // a failed attempt only updates the last error: one line per backoff step would flood the console
    c.on('close', (reason) => { if (reason && c === client) lastError = reason as string; });
    c.on('error', (e) => fail((e as { message: string }).message));
    c.on('message', (t, payload) => {
      const bytes = payload as Uint8Array;
      if (t === topic('cmd')) command(utf8Read(bytes, 0, bytes.length) || '');
    });
    c.subscribe(topic('cmd'), { qos: 1 }); // sent after CONNACK, and again whenever the session is lost
  }

  /** Samples every sensor and publishes each reading, then comes back after the interval. */
  function sample(): void {
    arm('sample', config.interval, sample);
    const sensors = platform.sensors || {};
    for (const name in sensors) publishReading(name, sensors[name]);
    const analog = platform.analog;
    if (config.pin && analog) publishReading('analog', () => analog(config.pin) * 100);
  }

  /**
   * A reading's payload is the number as text with 2 decimals ("21.53"): compact, and any client reads
   * it. toFixed, since Espruino's own float printing may show the binary error of a rounded value.
   */
  function publishReading(name: string, read: () => number): void {
    let value: number;
    try {
      value = read();
    } catch (e) {
      return fail(name + ': ' + ((e as { message?: string }).message || e));
    }
    if (client) client.publish(topic(name), value.toFixed(2), { qos: 1 });
  }

  function command(text: string): void {
    line('cmd', text);
    const error = runCommand(text, {
      publish: (level, payload) => { if (client) client.publish(topic(level), payload, { qos: 1 }); },
      setInterval: (seconds) => {
        const error = secondsError('interval', seconds);
        if (error) return error;
        save(merge(stored(), { interval: seconds }, base));
        arm('sample', seconds, sample);
        return '';
      },
      stats: () => JSON.stringify(status('stats')),
      reboot: reboot,
    });
    if (error) fail('cmd: ' + error);
  }

  /** The stored config (what the next boot will use), secrets included. */
  function stored(): Config {
    return readConfig(storage, base).config;
  }

  function save(c: Config): void {
    config = c;
    storage.write(CONFIG_FILE, JSON.stringify(c));
  }

  /** Says "offline" first (retained, acknowledged or not within the grace), so the fleet sees the reboot. */
  function reboot(): void {
    const r = run, c = client;
    const go = () => {
      if (r !== run) return;
      stop();
      if (platform.reboot) platform.reboot();
      else start(); // a host without a board to reset restarts the app, which is what a reset does to it
    };
    arm('reboot', REBOOT_GRACE, go);
    if (c && c.connected) c.publish(topic('status'), 'offline', { qos: 1, retain: true }, go);
    else go();
  }

  function fail(error: string): void {
    lastError = error;
    line('error');
  }

  function status(ev: string): StatusLine {
    const c = client, s = c && c.session, stats = s ? s.stats : { sent: 0, acked: 0, received: 0, dropped: 0, refused: 0 };
    const inflight = s ? s.inflightCount() : 0;
    return {
      ev: ev, id: config.id, fw: VERSION, profile: __PROFILE__,
      wifi: platform.wifi ? platform.wifi.status() : 'none', mqtt: mqtt, broker: config.broker,
      sent: stats.sent, acked: stats.acked, received: stats.received, dropped: stats.dropped, refused: stats.refused,
      inflight: inflight, queued: s ? s.queued() - inflight : 0, reconnects: c ? c.reconnects : 0,
      free: platform.memory ? platform.memory().free : null, error: lastError,
      uptime: Math.floor((platform.now() - started) / 1000), interval: config.interval,
    };
  }

  function line(ev: string, cmd?: string): void {
    const s = status(ev);
    if (cmd !== undefined) s.cmd = cmd;
    platform.log(formatLine(s));
  }

  /** A config line; `error` is set only when there is one (Espruino may print an undefined field as is). */
  function answer(c: Config, error: string): void {
    const o: ConfigLine = { ev: 'config', id: c.id, ok: !error, config: publicConfig(c) };
    if (error) o.error = error;
    platform.log(formatLine(o));
  }

  return {
    start: start,
    stop: stop,
    configure: (changes) => {
      const c = merge(stored(), changes, base);
      const error = configError(c);
      answer(c, error);
      if (error) return;
      save(c);
      start();
    },
    config: () => {
      const loaded = readConfig(storage, base);
      answer(loaded.config, loaded.error);
    },
    status: () => line('status'),
  };
}
