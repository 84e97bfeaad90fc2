// Which slice of a fleet's device ids this process runs. A fleet of `devices` boards split in n shards
// gives shard i the ids with id mod n = i, so the shards need nothing from each other but i and n:
// `--shard i/n` on a command line, or the pod index a Kubernetes Indexed Job sets (JOB_COMPLETION_INDEX)
// with the shard count (`--shards n` in the Job's command, or SPARROW_SHARDS).

export interface Shard {
  index: number;
  count: number;
}

/** The environment variable a Kubernetes Indexed Job sets in each pod: 0 .. completions-1. */
export const JOB_INDEX_ENV = 'JOB_COMPLETION_INDEX';
/** The shard count, when it is not given as `--shards`. */
export const SHARDS_ENV = 'SPARROW_SHARDS';

const count = (text: string, what: string): number => {
  if (!/^\d+$/.test(text) || +text < 1) throw new Error(`${what} wants a whole number >= 1, not "${text}"`);
  return +text;
};

/**
 * The shard from `--shard i/n`, or from JOB_COMPLETION_INDEX and `--shards n` / SPARROW_SHARDS; the
 * whole fleet (0/1) when none is given. Throws a readable Error for a contradiction or a bad value:
 * a pod that guessed its shard would run another pod's boards, or all of them.
 */
export function resolveShard(shardFlag: string | undefined, shardsFlag: string | undefined, env: { [k: string]: string | undefined }): Shard {
  const jobIndex = env[JOB_INDEX_ENV], shardsEnv = env[SHARDS_ENV];
  if (shardFlag !== undefined) {
    if (shardsFlag !== undefined) throw new Error('--shard i/n and --shards n both give the shard count: use one');
    const m = /^(\d+)\/(\d+)$/.exec(shardFlag);
    if (!m || +m[2] < 1 || +m[1] >= +m[2]) throw new Error(`--shard wants i/n with 0 <= i < n, not "${shardFlag}"`);
    return { index: +m[1], count: +m[2] };
  }
  const n = shardsFlag !== undefined ? count(shardsFlag, '--shards') : shardsEnv !== undefined && shardsEnv !== '' ? count(shardsEnv, SHARDS_ENV) : 0;
  if (jobIndex === undefined || jobIndex === '') {
    if (n) throw new Error(`a shard count (${shardsFlag !== undefined ? '--shards' : SHARDS_ENV} ${n}) but no ${JOB_INDEX_ENV}: give --shard i/n, or run as a Kubernetes Indexed Job`);
    return { index: 0, count: 1 };
  }
  if (!/^\d+$/.test(jobIndex)) throw new Error(`${JOB_INDEX_ENV}="${jobIndex}" is not a shard index`);
  if (!n) throw new Error(`${JOB_INDEX_ENV}=${jobIndex} but no shard count: pass --shards N (the Job's completions) or set ${SHARDS_ENV}`);
  if (+jobIndex >= n) throw new Error(`${JOB_INDEX_ENV}=${jobIndex} is not below the shard count ${n}: the Job's completions and --shards differ`);
  return { index: +jobIndex, count: n };
}

/** Sub-shard j of k of `shard`: ids with id mod (n*k) = i + n*j, so the k of them are exactly shard i/n's ids. */
export function subShard(shard: Shard, j: number, k: number): Shard {
  return { index: shard.index + shard.count * j, count: shard.count * k };
}

/** Number of boards a shard runs of a fleet of `devices`. */
export function shardSize(shard: Shard, devices: number): number {
  return shard.index < devices ? Math.ceil((devices - shard.index) / shard.count) : 0;
}
