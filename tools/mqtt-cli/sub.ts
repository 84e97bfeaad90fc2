// `sparrow sub`: mosquitto_sub on the project's own client. Subscribes to every -t and prints each
// message's payload (-v: "topic payload") on a line of stdout, until -C messages, -W seconds (exit 27, as
// mosquitto_sub), SIGINT/SIGTERM (exit 0), or a lost connection (exit 1).
import { topicMatches, validTopicFilter } from '../../firmware/mqtt/topic';
import { UsageError } from '../cli/usage';
import { CONNECTION_HELP, CONNECTION_OPTIONS, connectionFrom, open, wholeFlag, type Connection, type Values } from './connection';

export const SUB_OPTIONS = {
  ...CONNECTION_OPTIONS,
  topic: { type: 'string', short: 't', multiple: true },
  'filter-out': { type: 'string', short: 'T', multiple: true },
  verbose: { type: 'boolean', short: 'v' },
  count: { type: 'string', short: 'C' },
  timeout: { type: 'string', short: 'W' },
  'no-retained': { type: 'boolean', short: 'R' },
  'no-newline': { type: 'boolean', short: 'N' },
  'exit-subscribed': { type: 'boolean', short: 'E' },
} as const;

export const SUB_HELP = [
  '  -t, --topic FILTER        topic filter to subscribe to (wildcards + and #); repeat for more',
  '  -T, --filter-out FILTER   do not print messages on topics matching this filter; repeat for more',
  '  -v, --verbose             print the topic before each payload ("topic payload")',
  '  -C, --count N             exit after N messages',
  '  -W, --timeout S           exit after S seconds (exit code 27, as mosquitto_sub) unless -C is reached first',
  '  -R, --no-retained         do not print retained (stale) messages',
  '  -N, --no-newline          no newline after each payload',
  '  -E, --exit-subscribed     exit once the broker has granted the subscriptions',
  ...CONNECTION_HELP,
  '  Exit code: 0, 1 when the broker cannot be reached, refuses us or every subscription, or drops us;',
  '  27 when -W ran out; 2 bad usage.',
];

/** mosquitto_sub's exit code when -W runs out (MOSQ_ERR_TIMEOUT). */
export const TIMED_OUT = 27;

interface SubPlan {
  connection: Connection;
  filters: string[];
  hidden: string[];
  verbose: boolean;
  count: number;
  timeoutMs: number;
  retained: boolean;
  newline: boolean;
  exitSubscribed: boolean;
}

/** Reads and checks the flags. */
export function subPlan(values: Values): SubPlan {
  const connection = connectionFrom(values, 'sub');
  const filters = ((values.topic as string[] | undefined) || []).concat(connection.topic === undefined ? [] : [connection.topic]);
  if (!filters.length) throw new UsageError('give a topic filter: -t FILTER (or -L mqtt://host/filter)');
  const hidden = (values['filter-out'] as string[] | undefined) || [];
  for (const f of filters.concat(hidden)) if (!validTopicFilter(f)) throw new UsageError(`"${f}" is not a topic filter (+ and # fill whole levels, # only last)`);
  return {
    connection, filters, hidden, verbose: !!values.verbose,
    count: values.count === undefined ? 0 : wholeFlag('-C', values.count as string, 1, 2 ** 31),
    timeoutMs: values.timeout === undefined ? 0 : wholeFlag('-W', values.timeout as string, 1, 86400 * 365) * 1000,
    retained: !values['no-retained'], newline: !values['no-newline'], exitSubscribed: !!values['exit-subscribed'],
  };
}

/** Runs `sparrow sub`; resolves with the exit code (throws a UsageError for bad flags). */
export async function runSub(values: Values): Promise<number> {
  const plan = subPlan(values);
  const say = (text: string) => { if (!plan.connection.quiet) console.error('sparrow sub: ' + text); };
  let stop: (code: number, why?: string) => void = () => {};
  const finished = new Promise<[number, string | undefined]>((resolve) => { stop = (code, why) => resolve([code, why]); });
  const onSignal = () => stop(0);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // -W counts from the start, as mosquitto_sub's does: a broker that never answers is bounded too
  const timer = plan.timeoutMs ? setTimeout(() => stop(TIMED_OUT, 'timed out'), plan.timeoutMs) : null;
  const { client: c, connected } = open(plan.connection);
  connected.then(() => {
    c.on('close', (reason: string) => stop(1, 'connection lost: ' + (reason || 'closed')));
    let counted = false; // -C N reached: messages already on their way (same chunk) are not printed
    c.on('message', (topic: string, payload: Uint8Array, packet: { retain?: boolean }) => {
      if (counted || (!plan.retained && packet.retain) || plan.hidden.some((f) => topicMatches(f, topic))) return;
      print(plan, topic, payload);
      if (plan.count && --plan.count === 0) { counted = true; stop(0); }
    });
    c.subscribe(plan.filters, { qos: plan.connection.qos }, (err, granted) => {
      const refused = ((granted || []) as Array<{ topic: string; qos: number }>).filter((g) => g.qos >= 128);
      if (err) return stop(1, 'subscribe failed: ' + err.message);
      for (const g of refused) say(`subscription to ${g.topic} refused`);
      if (refused.length === plan.filters.length) stop(1, 'every subscription was refused');
      else if (plan.exitSubscribed) stop(0);
    });
  }, (e: Error) => stop(1, e.message));
  const [code, why] = await finished;
  if (timer) clearTimeout(timer);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  c.end();
  if (why) say(why);
  return code;
}

/** One message on stdout, copied: the payload is a view the client reuses once this returns. */
function print(plan: SubPlan, topic: string, payload: Uint8Array): void {
  const end = plan.newline ? '\n' : '';
  if (!plan.verbose) { process.stdout.write(Buffer.concat([Buffer.from(payload), Buffer.from(end)])); return; }
  const body = payload.length ? Buffer.from(payload) : Buffer.from('(null)');
  process.stdout.write(Buffer.concat([Buffer.from(topic + ' '), body, Buffer.from(end)]));
}
