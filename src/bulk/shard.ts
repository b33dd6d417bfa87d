import { createHash } from 'node:crypto';
import { ValidationError } from '../core/errors.js';

/**
 * `--shard i/n`: this run takes the panels whose name hashes to i (mod n), numbered from 0
 * like Kubernetes' JOB_COMPLETION_INDEX. The hash is of the name alone, so every runner
 * agrees on the split without talking to the others, and a panel always lands in one shard.
 */
export interface Shard {
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index >= count) throw new ValidationError('--shard', 'must be INDEX/COUNT with 0 <= INDEX < COUNT, e.g. 0/4');
  return { index, count };
}

export function shardOf(panel: string, count: number): number {
  return createHash('sha256').update(panel).digest().readUInt32BE(0) % count;
}

export function inShard(panel: string, shard: Shard | undefined): boolean {
  return !shard || shardOf(panel, shard.count) === shard.index;
}

export function shardSuffix(shard: Shard | undefined): string {
  return shard ? `.shard-${shard.index}-of-${shard.count}` : '';
}
