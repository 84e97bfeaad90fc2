// The distributed path: deploy/sim-job.yaml is checked field by field (no cluster, no kubectl), then its
// container command runs here the way the Indexed Job runs it, one process per pod with only
// JOB_COMPLETION_INDEX telling it its shard, against one real mosquitto; `sparrow sim merge` combines the
// pods' logs, and the merged fleet is compared with one unsharded run of the same fleet.
import { strict as assert } from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runSparrow } from './support/cli';
import { startMosquitto, type Mosquitto } from './support/mosquitto';

// the manifest is YAML as Kubernetes users write it
// eslint-disable-next-line @typescript-eslint/no-var-requires
const yaml: { load(text: string): any } = require('js-yaml');

const MANIFEST = path.resolve(__dirname, '../deploy/sim-job.yaml');
const DIST = path.resolve(__dirname, '../dist');
/** Measured host cost of a TCP board (docs/benchmarks.md): RSS per board over a base process. */
const RSS_PER_BOARD = 12.5 * 1024, RSS_BASE = 95 * 2 ** 20; // docs/benchmarks.md, Fleet scale: 310 MiB peak for 18,000 boards

const mebibytes = (q: string): number => {
  const m = /^(\d+)(Mi|Gi)$/.exec(q);
  assert.ok(m, 'memory quantity ' + q + ' in Mi or Gi');
  return +m![1] * (m![2] === 'Gi' ? 1024 : 1) * 2 ** 20;
};

/** Kubernetes' $(VAR) expansion in a container's command and args. */
const expand = (arg: string, env: { [k: string]: string }) => arg.replace(/\$\((\w+)\)/g, (_, v) => { assert.ok(v in env, '$(' + v + ') is not in the container env'); return env[v]; });

function runPod(argv: string[], env: { [k: string]: string }, log: string, ms = 60000): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = fs.createWriteStream(log);
    // a pod's log as kubectl logs gives it: stderr's progress and stdout's report in one stream
    child.stdout!.pipe(out, { end: false });
    child.stderr!.pipe(out, { end: false });
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('pod ' + env.JOB_COMPLETION_INDEX + ' did not exit')); }, ms);
    child.on('close', (code) => { clearTimeout(t); out.end(() => resolve(code)); });
  });
}

describe('sim as a Kubernetes Indexed Job (deploy/sim-job.yaml)', function () {
  this.timeout(120000);
  const job = yaml.load(fs.readFileSync(MANIFEST, 'utf8'));
  const container = job.spec.template.spec.containers[0];
  const env: { [k: string]: string } = {};
  for (const e of container.env) env[e.name] = e.value;
  let mosquitto: Mosquitto | null = null;
  let dir = '';
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparrow-job-')); });
  after(async () => { if (mosquitto) await mosquitto.stop(); fs.rmSync(dir, { recursive: true, force: true }); });

  it('is an Indexed Job whose command passes the shard count, sized from the measured memory per board', () => {
    assert.equal(job.apiVersion, 'batch/v1');
    assert.equal(job.kind, 'Job');
    assert.equal(job.spec.completionMode, 'Indexed');
    assert.ok(Number.isInteger(job.spec.completions) && job.spec.completions >= 1);
    assert.equal(job.spec.parallelism, job.spec.completions, 'every shard runs at once');
    assert.equal(job.spec.template.spec.restartPolicy, 'Never');
    assert.equal(job.spec.template.spec.containers.length, 1);
    assert.ok(container.image, 'an image');
    const args: string[] = container.command.concat(container.args);
    assert.deepEqual(container.command.slice(-1), ['sim']);
    assert.equal(args[args.indexOf('--shards') + 1], String(job.spec.completions), '--shards equals completions');
    assert.ok(!args.includes('--shard'), 'the shard index comes from JOB_COMPLETION_INDEX, not the command');
    assert.equal(args[args.indexOf('--json') + 1], '-', 'the report on stdout, in the pod log');
    for (const a of args) expand(a, env); // every $(VAR) is defined
    const boardsPerPod = Math.ceil(+expand(args[args.indexOf('-n') + 1], env) / job.spec.completions);
    const r = container.resources;
    assert.ok(r.requests.cpu, 'a CPU request');
    const request = mebibytes(r.requests.memory), limit = mebibytes(r.limits.memory);
    assert.ok(request >= RSS_BASE + boardsPerPod * RSS_PER_BOARD, `${r.requests.memory} holds ${boardsPerPod} boards`);
    assert.ok(limit >= request);
    assert.ok(boardsPerPod <= 18000, 'a pod holds fewer boards than one process has sockets');
  });

  it('its pods, started with only JOB_COMPLETION_INDEX, merge into the same fleet as one unsharded run', async () => {
    mosquitto = await startMosquitto();
    const here = { ...env, BROKER_URL: mosquitto.url, DEVICES: '12', DURATION: '3s', RATE: '2/s', PREFIX: 'job' };
    const argv = container.command.concat(container.args)
      .map((a: string) => expand(a, here)).map((a: string) => (a === 'node' ? process.execPath : a.replace('/opt/sparrow/dist', DIST)));
    const n = job.spec.completions;
    const logs = Array.from({ length: n }, (_, i) => path.join(dir, `shard-${i}.log`));
    const codes = await Promise.all(logs.map((log, i) => runPod(argv, { JOB_COMPLETION_INDEX: String(i) }, log)));
    assert.deepEqual(codes, new Array(n).fill(0), logs.map((l) => fs.readFileSync(l, 'utf8')).join('\n'));
    const mergedJson = path.join(dir, 'fleet.json');
    const merged = await runSparrow(['sim', 'merge', ...logs, '--json', mergedJson]);
    assert.equal(merged.code, 0, merged.out);
    assert.match(merged.out, new RegExp(`OK: ${n} shards`));
    const fleet = JSON.parse(fs.readFileSync(mergedJson, 'utf8'));

    const soloJson = path.join(dir, 'solo.json');
    const solo = await runSparrow(['sim', '-n', '12', '-b', mosquitto.url, '--rate', '2/s', '-q', '1', '-d', '3s', '--prefix', 'solo', '--json', soloJson], 60000);
    assert.equal(solo.code, 0, solo.out);
    const one = JSON.parse(fs.readFileSync(soloJson, 'utf8'));

    assert.equal(fleet.boards, 12);
    assert.equal(fleet.boards, one.boards);
    assert.deepEqual(fleet.shards, { count: n, present: Array.from({ length: n }, (_, i) => i), missing: [] });
    for (const r of [fleet, one]) {
      const q = r.qos[0];
      assert.equal(q.qos, 1);
      assert.equal(q.lost, 0);
      assert.equal(q.pending, 0);
      assert.equal(q.delivered, q.accepted);
      assert.equal(r.latencyHistogram.count, q.delivered);
    }
    // the same boards on the same seeded phases: the same readings, give or take one per board at the end
    assert.ok(Math.abs(fleet.qos[0].published - one.qos[0].published) <= 12, `${fleet.qos[0].published} vs ${one.qos[0].published}`);
    // each pod's checker also saw the other pods' boards, and booked them as foreign, not as its own
    assert.equal(fleet.received.checker, fleet.qos[0].delivered + fleet.qos[0].duplicates);
    assert.ok(fleet.received.foreign >= fleet.qos[0].delivered, 'foreign ' + fleet.received.foreign);
    assert.equal(one.received.foreign, 0);
  });
});
