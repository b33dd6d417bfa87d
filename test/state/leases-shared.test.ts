import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCKED, listLeases, readLease, removeLease, withLeaseLock, writeLease, type Lease } from '../../src/state/leases.js';
import { closeSharedStores, configureSharedStore, type SharedStore } from '../../src/state/store.js';
import { tempDirPerTest } from '../support/temp-dir.js';

/**
 * With a shared store configured for a state dir, every lease function goes to it and none to the
 * files (the operations keep one code path for both backends; README "Team setup"). The state dir is a fresh path
 * per test: a fixed one under /nonexistent is writable by root, and files left there by one run were read by the next.
 */
const temp = tempDirPerTest('panelctl-shared-leases-');
let DIR = '';
beforeEach(() => {
  DIR = path.join(temp.dir, 'state');
});
const lease = { v: 1, id: 'L1', panel: 'bergen-shop', until: '2026-11-30T10:00:00Z' } as Lease;

function fakeStore(calls: string[]): SharedStore {
  return {
    kind: 'postgres',
    description: 'fake',
    workLocks: { acquire: async () => ({ release: async () => undefined }) },
    leases: {
      read: async (panel) => {
        calls.push(`read ${panel}`);
        return lease;
      },
      write: async (l) => void calls.push(`write ${l.id}`),
      remove: async (panel) => void calls.push(`remove ${panel}`),
      list: async () => {
        calls.push('list');
        return [lease];
      },
      withLock: async (panel, wait, work) => {
        calls.push(`lock ${panel} ${wait}`);
        return wait ? work() : LOCKED;
      },
    },
    audit: { prepare: async () => undefined, appendBatch: async () => [], read: async () => [], verify: async () => ({ entries: 0, problems: [] }) },
    bulk: {} as never,
    stateKey: async () => ({}) as never,
    sweepLeadership: () => ({ lead: async () => true, release: async () => undefined }),
    close: async () => void calls.push('close'),
  };
}

afterEach(() => closeSharedStores());

describe('lease functions with a shared store', () => {
  it('read, write, remove, list and the lease lock all go to the store, never to the files', async () => {
    const calls: string[] = [];
    configureSharedStore(DIR, async () => fakeStore(calls));
    expect(await readLease(DIR, 'bergen-shop')).toBe(lease);
    await writeLease(DIR, lease);
    await removeLease(DIR, 'bergen-shop');
    expect(await listLeases(DIR)).toEqual([lease]);
    expect(await withLeaseLock(DIR, 'bergen-shop', { wait: true }, async () => 'worked')).toBe('worked');
    expect(await withLeaseLock(DIR, 'bergen-shop', { wait: false }, async () => 'worked')).toBe(LOCKED);
    expect(calls).toEqual(['read bergen-shop', 'write L1', 'remove bergen-shop', 'list', 'lock bergen-shop true', 'lock bergen-shop false']);
    await closeSharedStores();
    expect(calls.at(-1)).toBe('close');
    expect(fs.existsSync(DIR)).toBe(false);
  });

  it('the store is opened once per process, on first use', async () => {
    let opened = 0;
    configureSharedStore(DIR, async () => {
      opened++;
      return fakeStore([]);
    });
    expect(opened).toBe(0);
    await readLease(DIR, 'a');
    await listLeases(DIR);
    expect(opened).toBe(1);
  });

  it('a state dir with no shared store configured reads its files', async () => {
    configureSharedStore(DIR, async () => undefined);
    expect(await listLeases(DIR)).toEqual([]);
    expect(await readLease(DIR, 'bergen-shop')).toBeUndefined();
  });
});
