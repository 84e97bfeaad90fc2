// One Connection driven without a socket and without a Broker: an in-memory link plays the client, and a
// small fake host (ConnectionHost) records what the connection asks of the broker. This is what the
// broker/host.ts interface is for: the protocol of one client, tested on its own.
import { strict as assert } from 'assert';
import { NO_MATCHING_SUBSCRIBERS, NOT_AUTHORIZED, PROTOCOL_ERROR } from '../firmware/mqtt';
import type { Packet } from '../firmware/mqtt';
import { Auth } from '../broker/auth';
import type { Clock } from '../broker/clock';
import { Connection } from '../broker/connection';
import type { ConnectionHost } from '../broker/host';
import { createLogger } from '../broker/log';
import type { Message } from '../broker/message';
import { withDefaults, type BrokerOptions } from '../broker/options';
import { Session } from '../broker/sessions';
import { Stats } from '../broker/stats';
import type { SubEntry } from '../broker/topic-tree';
import { forge, persistentConnectWithoutId } from './support/forge';
import { ClientEnd } from './support/memory-link';

/** A clock that stands still: timers are recorded, never fired; deferred work runs at once. */
const stillClock: Clock = { now: () => 1_000_000, setTimeout: () => ({}), clearTimeout: () => {}, defer: (fn) => fn() };

/** The broker side, reduced to a log of what the connection asked for. */
class FakeHost implements ConnectionHost<Connection> {
  readonly options: BrokerOptions;
  readonly log = createLogger('silent');
  readonly clock = stillClock;
  readonly stats = new Stats(stillClock);
  readonly auth: Auth;
  readonly store = null;
  readonly published: Message[] = [];
  readonly opened: { clientId: string; clean: boolean; expiry: number; username?: string }[] = [];
  readonly ended: boolean[] = [];
  readonly subscribed: string[] = [];
  /** How many sessions publish() reports the message went to. */
  matches = 1;

  constructor(options: Partial<BrokerOptions> = {}) {
    this.options = withDefaults({ port: null, clock: stillClock, ...options });
    this.auth = new Auth(this.options);
  }

  flushLater(conn: Connection): void { conn.flush(); }
  assignClientId(): string { return 'assigned-1'; }
  openSession(conn: Connection, clientId: string, clean: boolean, expiry: number, username?: string) {
    this.opened.push({ clientId, clean, expiry, username });
    const session = new Session(clientId, username);
    session.expiry = expiry;
    session.conn = conn;
    return { session, present: false };
  }
  connectionEnded(_conn: Connection, connected: boolean): void { this.ended.push(connected); }
  publish(msg: Message): number { this.published.push(msg); return this.matches; }
  subscribe(s: Session, e: SubEntry<Session>): boolean { this.subscribed.push(e.filter); s.subs.set(e.filter, e); return false; }
  unsubscribe(s: Session, filter: string): boolean { return s.subs.delete(filter); }
  sendRetained(): void {}
  unblock(): void {}
  release(): void {}
}

function open(version: 4 | 5, options: Partial<BrokerOptions> = {}) {
  const host = new FakeHost(options);
  const client = new ClientEnd(undefined, version);
  const conn = new Connection(host, client);
  return { host, client, conn };
}

const connect = (version: 4 | 5, extra: Partial<Packet> = {}): Packet =>
  ({ cmd: 'connect', protocolVersion: version, clientId: 'c1', clean: true, keepalive: 0, ...extra } as Packet);

describe('broker Connection on a fake host (no socket, no Broker)', () => {
  it('CONNECT opens the session the client asked for and answers CONNACK', () => {
    const { host, client, conn } = open(5, { maxSessionExpiry: 60 });
    client.send(connect(5, { clientId: '', clean: false, properties: { sessionExpiryInterval: 3600 } }));
    assert.deepEqual(host.opened, [{ clientId: 'assigned-1', clean: false, expiry: 60, username: undefined }]);
    assert.equal(conn.state, 'connected');
    const [ack] = client.received;
    assert.equal(ack.cmd, 'connack');
    assert.equal(ack.reasonCode, 0);
    assert.equal(ack.properties!.assignedClientIdentifier, 'assigned-1');
    assert.equal(ack.properties!.sessionExpiryInterval, 60, 'the granted expiry is told when it differs from the asked one');
  });

  it('MQTT-3.1.3-8: a 3.1.1 CONNECT with no client id and clean=0 is refused (return code 2) before any session', () => {
    const { host, client } = open(4);
    client.sendBytes(persistentConnectWithoutId());
    assert.deepEqual(host.opened, []);
    assert.deepEqual(client.cmds(), ['connack']);
    assert.equal(client.received[0].returnCode, 2);
    assert.ok(client.ended);
    assert.deepEqual(host.ended, [false]);
  });

  it('PUBLISH QoS 1 hands the host an owned copy of the message and PUBACKs with what routing found', () => {
    const { host, client } = open(5);
    client.send(connect(5));
    host.matches = 0;
    client.send({ cmd: 'publish', topic: 'a/b', payload: 'hello', qos: 1, messageId: 7, properties: { messageExpiryInterval: 10 } } as Packet);
    assert.equal(host.published.length, 1);
    const m = host.published[0];
    assert.equal(m.topic, 'a/b');
    assert.equal(Buffer.from(m.payload).toString(), 'hello');
    assert.equal(m.origin, 'c1');
    assert.equal(m.expiresAt, stillClock.now() + 10_000);
    const ack = client.received[1];
    assert.equal(ack.cmd, 'puback');
    assert.equal(ack.messageId, 7);
    assert.equal(ack.reasonCode, NO_MATCHING_SUBSCRIBERS);
    client.send({ cmd: 'publish', topic: 'a/b', payload: 'HELLO', qos: 0 } as Packet);
    assert.equal(Buffer.from(m.payload).toString(), 'hello', 'the first message outlives the reader\'s reused buffers');
  });

  it('a topic alias set by one PUBLISH names the topic of the next one', () => {
    const { host, client } = open(5);
    client.send(connect(5));
    client.send({ cmd: 'publish', topic: 'long/topic/name', payload: '1', qos: 0, properties: { topicAlias: 3 } } as Packet);
    client.send({ cmd: 'publish', topic: '', payload: '2', qos: 0, properties: { topicAlias: 3 } } as Packet);
    assert.deepEqual(host.published.map((m) => m.topic), ['long/topic/name', 'long/topic/name']);
  });

  it('a client may not publish to $SYS: PUBACK 0x87 and nothing routed', () => {
    const { host, client } = open(5);
    client.send(connect(5));
    client.send({ cmd: 'publish', topic: '$SYS/broker/uptime', payload: 'x', qos: 1, messageId: 1 } as Packet);
    assert.deepEqual(host.published, []);
    assert.equal(client.received[1].reasonCode, NOT_AUTHORIZED);
  });

  it('MQTT-3.1.0-2: a second CONNECT closes with 0x82 and ends the session\'s connection', () => {
    const { host, client, conn } = open(5);
    client.send(connect(5));
    client.send(connect(5));
    assert.deepEqual(client.cmds(), ['connack', 'disconnect']);
    assert.equal(client.received[1].reasonCode, PROTOCOL_ERROR);
    assert.equal(conn.state, 'closed');
    assert.deepEqual(host.ended, [true]);
  });

  it('SUBSCRIBE asks the host to file the subscription and SUBACKs the granted QoS', () => {
    const { host, client } = open(4);
    client.send(connect(4));
    client.sendBytes(forge({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'a/+', qos: 1 }, { topic: 'a/x/b', qos: 0 }] }, 4, { 'a/x/b': 'a/#/b' }));
    assert.deepEqual(host.subscribed, ['a/+']);
    const ack = client.received[1];
    assert.equal(ack.cmd, 'suback');
    assert.deepEqual(ack.granted, [1, 0x80]);
  });
});
