// Flow control between clients: one client that stops reading must not stall the others, queues are
// bounded in messages and bytes (per session and broker-wide), and a publisher is never disconnected
// for a limit it was not told.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Cleanup, RawClient, startBroker } from './support/broker';
import { until } from './support/wait';

describe('broker: flow control', function () {
  this.timeout(30000);
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  function dataDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-flow-'));
    cleanup.add(() => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  for (const qos of [1, 2] as const) {
    it(`with --data-dir, a 3.1.1 client's 3,000 QoS ${qos} publishes in one write are all acknowledged, none disconnected (it was never told Receive Maximum)`, async () => {
      const tb = await startBroker({ dataDir: dataDir() });
      cleanup.add(() => tb.broker.close());
      const r = await RawClient.open(tb.port, { clientId: 'burst' + qos }, 4, cleanup);
      for (let id = 1; id <= 3000; id++) {
        // retained, so every publish writes to the store and its ack waits for the commit
        r.send({ cmd: 'publish', topic: 'burst/' + id, payload: 'x', qos, retain: true, messageId: id });
      }
      const ack = qos === 1 ? 'puback' : 'pubrec';
      await until(() => r.packets.filter((p) => p.cmd === ack).length === 3000 || r.closed, '3,000 acks', 20000);
      assert.equal(r.closed, false, 'disconnected');
      assert.deepEqual(r.packets.filter((p) => p.cmd === ack).map((p: any) => p.messageId), Array.from({ length: 3000 }, (_, i) => i + 1));
      assert.equal(tb.broker.retained.size, 3000);
    });
  }
});
