// `sparrow pub`: mosquitto_pub on the project's own client. One message (-m, -f, -n, -s) or one per
// line of stdin (-l); exits 0 once the broker has acknowledged every message (QoS 1/2) or it has been
// written (QoS 0), 1 when the broker cannot be reached, refuses us or refuses a message.
import * as fs from 'fs';
import type { MqttClient } from '../../firmware/client';
import { validTopicName } from '../../firmware/mqtt/topic';
import { UsageError } from '../cli/usage';
import { CONNECTION_HELP, CONNECTION_OPTIONS, connectionFrom, open, type Connection, type Values } from './connection';

export const PUB_OPTIONS = {
  ...CONNECTION_OPTIONS,
  topic: { type: 'string', short: 't' },
  message: { type: 'string', short: 'm' },
  file: { type: 'string', short: 'f' },
  'null-message': { type: 'boolean', short: 'n' },
  'stdin-line': { type: 'boolean', short: 'l' },
  'stdin-file': { type: 'boolean', short: 's' },
  retain: { type: 'boolean', short: 'r' },
} as const;

export const PUB_HELP = [
  '  -t TOPIC            topic to publish to',
  '  -m MSG              the message',
  '  -f FILE             the file\'s contents as the message',
  '  -n                  a null (zero length) message: with -r, clears the topic\'s retained message',
  '  -l                  one message per line of stdin, sent as lines arrive',
  '  -s                  all of stdin as one message',
  '  -r                  retain the message',
  ...CONNECTION_HELP,
  '  A fleet board takes commands this way: sparrow pub -t sparrow/<id>/cmd -m ping (also interval S, stats,',
  '  reboot; see docs/telemetry.md), and answers on sparrow/<id>/pong, .../stats (sparrow sub -t \'sparrow/<id>/#\' -v).',
  '  Exit code: 0 once every message is acknowledged (QoS 1/2) or written (QoS 0); 1 when not; 2 bad usage.',
];

/** At most this many messages of -l wait for their acknowledgement; stdin pauses beyond. */
const WINDOW = 64;
/** The client's message store: room for the window and for one large -f/-s message. */
const STORE_SLOTS = WINDOW * 2;

type Source = { kind: 'one'; payload: () => Buffer } | { kind: 'lines' };

function sourceFrom(values: Values): Source {
  const given = ['message', 'file', 'null-message', 'stdin-line', 'stdin-file'].filter((k) => values[k] !== undefined && values[k] !== false);
  if (given.length !== 1) throw new UsageError('give exactly one message: -m MSG, -f FILE, -n, -l or -s');
  const file = values.file as string | undefined;
  if (file !== undefined) {
    // read now, so a bad path is a usage error before any connection
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (e) {
      throw new UsageError(`-f: cannot read ${file}: ${(e as NodeJS.ErrnoException).code || (e as Error).message}`);
    }
    return { kind: 'one', payload: () => bytes };
  }
  if (values['stdin-line']) return { kind: 'lines' };
  if (values['stdin-file']) return { kind: 'one', payload: () => fs.readFileSync(0) };
  const text = values['null-message'] ? '' : (values.message as string);
  return { kind: 'one', payload: () => Buffer.from(text, 'utf8') };
}

/** Reads and checks the flags: the connection, the topic and the message source. */
export function pubPlan(values: Values): { connection: Connection; topic: string; retain: boolean; source: Source } {
  const connection = connectionFrom(values, 'pub');
  const t = values.topic as string | undefined;
  if (t !== undefined && connection.topic !== undefined) throw new UsageError('the topic is in -L\'s URL: do not also give -t');
  const topic = t !== undefined ? t : connection.topic;
  if (topic === undefined) throw new UsageError('give a topic: -t TOPIC (or -L mqtt://host/topic)');
  if (!validTopicName(topic)) throw new UsageError(`"${topic}" is not a topic to publish to (no + or #, not empty)`);
  return { connection, topic, retain: !!values.retain, source: sourceFrom(values) };
}

/** Runs `sparrow pub`; resolves with the exit code (throws a UsageError for bad flags). */
export async function runPub(values: Values): Promise<number> {
  const plan = pubPlan(values);
  const say = (text: string) => { if (!plan.connection.quiet) console.error('sparrow pub: ' + text); };
  const one = plan.source.kind === 'one' ? plan.source.payload() : null;
  const { client, connected } = open({ ...plan.connection, options: { ...plan.connection.options, storeSlots: STORE_SLOTS,
    storeBytes: Math.max(1 << 20, one ? 2 * (one.length + plan.topic.length + 64) : 0) } });
  try {
    await connected;
  } catch (e) {
    say((e as Error).message);
    return 1;
  }
  const opts = { qos: plan.connection.qos, retain: plan.retain };
  const failed = await new Promise<string | null>((resolve) => {
    client.on('close', (reason: string) => resolve('connection lost: ' + (reason || 'closed')));
    if (one) {
      client.publish(plan.topic, one, opts, (err) => resolve(err ? 'publish refused: ' + err.message : null));
      return;
    }
    publishLines(client, plan.topic, opts, resolve);
  });
  client.end();
  if (failed) say(failed);
  return failed ? 1 : 0;
}

/** -l: a message per line of stdin, at most WINDOW unacknowledged (stdin waits meanwhile); `done` once all are acknowledged, or with the first refusal. */
function publishLines(client: MqttClient, topic: string, opts: { qos: 0 | 1 | 2; retain: boolean }, done: (failure: string | null) => void): void {
  const queue: string[] = [];
  let pending = 0, ended = false, rest = '';
  const stdin = process.stdin;
  const pump = () => {
    while (queue.length && pending < WINDOW) {
      pending++;
      client.publish(topic, Buffer.from(queue.shift()!, 'utf8'), opts, (err) => {
        if (err) return done('publish refused: ' + err.message);
        pending--;
        pump();
      });
    }
    if (queue.length) stdin.pause();
    else if (!ended) stdin.resume();
    else if (pending === 0) done(null);
  };
  stdin.setEncoding('utf8');
  stdin.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    for (const line of lines) queue.push(line.replace(/\r$/, ''));
    pump();
  });
  stdin.on('end', () => {
    if (rest) queue.push(rest.replace(/\r$/, ''));
    ended = true;
    pump();
  });
}
