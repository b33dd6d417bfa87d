import { createHash, createHmac } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { planIdOf, readPlan, signPlan, writePlan, type BulkPlan } from '../../src/bulk/plan.js';

/**
 * A plan's id and signature cover its canonical form, which is now written piece by piece into
 * the hash and the HMAC instead of built as one string (issue 20: 13 MB at 10,000 panels, twice
 * per read). Plans made by an older build must keep applying, so the digests must not move:
 * checked against the digests e957af9 (the last build with the one-string form) gave for the same
 * plans, and against that one-string form itself on plans of every shape.
 */

const KEY = Buffer.alloc(32, 7);

/** A deterministic plan of `panels` panels with every field the schema knows, text that needs escaping, and undefined fields. */
function samplePlan(panels: number): Omit<BulkPlan, 'id'> {
  let seed = 7;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed;
  };
  const names = ['Bob', 'Zoë Ła', 'Ann "Quote"', 'back\\slash', 'tab\tname', '新しい', ''];
  const actions = ['add', 'set-code', 'remove'] as const;
  return {
    format: 'panelctl-bulk-plan/1',
    createdAt: '2026-11-30T10:00:00.000Z',
    source: { file: 'changes.csv', rows: panels * 2, codesFile: 'codes.csv' },
    panels: Array.from({ length: panels }, (_, i) => {
      const steps = Array.from({ length: next() % 3 }, (_, k) => {
        const action = actions[next() % 3];
        const code = [{ source: 'generate' as const }, { source: 'stdin' as const }, { source: 'codes' as const, column: 'new', row: k + 1 }, undefined][
          next() % 4
        ];
        return {
          id: `p${i}/${k + 1}`,
          row: k + 1,
          action,
          slot: 1 + (next() % 60),
          name: names[next() % names.length],
          partitions: action === 'add' ? [1, 2].slice(0, 1 + (next() % 2)) : undefined,
          type: action === 'add' && next() % 2 ? 'normal' : undefined,
          code,
          ...(next() % 5 === 0 ? { blind: true as const } : {}),
        };
      });
      return {
        panel: `p${i}`,
        facts: {
          driver: ['integra', 'dsc', 'vista'][i % 3],
          link: `tcp://10.0.${i >> 8}.${i & 255}:7094`,
          options: (i % 4 ? { prefix: '0042', maxUsers: 60, legacy: false } : {}) as Record<string, string | number | boolean>,
        },
        steps,
        noops: next() % 3 ? [] : [{ row: 9, action: 'remove' as const, slot: 4, reason: 'slot 4 is empty: nothing to remove' }],
        conflicts: next() % 4 ? [] : [{ row: 3, action: 'add' as const, user: 'Émile', reason: 'slot 5 is taken by "X"', code: 'E_SLOT_TAKEN' }],
      };
    }),
  };
}

/** The one-string canonical form as e957af9 built it (src/bulk/plan.ts `canonical`), kept here as the reference. */
function oneStringCanonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(oneStringCanonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${JSON.stringify(k)}:${oneStringCanonical(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

/** A state dir whose key is KEY. */
async function stateDirWithKey(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-canonical-'));
  dirs.push(dir);
  await fs.chmod(dir, 0o700);
  await fs.writeFile(path.join(dir, 'state.key'), `${JSON.stringify({ format: 'panelctl-state-key/1', key: KEY.toString('base64') })}\n`, { mode: 0o600 });
  return dir;
}

describe('the canonical form of a plan, written piece by piece', () => {
  // What e957af9 gave for samplePlan(n) with state key KEY (signPlan there, before the change).
  const older = [
    { panels: 1, id: '92de10bd5d0af7a5', signature: '54e8500f7cb6114d4a4ebe3e551ae0efbc08c3bdddd255ab96be0b3c197d1fc7' },
    // More than one 64 KiB chunk of canonical text.
    { panels: 300, id: '4409d9b7e1076e76', signature: '176add83876102dd6c6d22c99d5efd0fc6241bf477b35219995ac382ca63bc5e' },
  ];

  it.each(older)('gives the id and signature an older build gave the same plan ($panels panel(s))', async ({ panels, id, signature }) => {
    const signed = await signPlan(samplePlan(panels), await stateDirWithKey());
    expect(signed.id).toBe(id);
    expect(signed.signature).toBe(signature);
  });

  it('a plan written as an older build wrote it (id and signature from e957af9) is read and accepted', async () => {
    const state = await stateDirWithKey();
    const file = path.join(state, 'plan.json');
    const plan = { ...JSON.parse(JSON.stringify(samplePlan(300))), id: older[1].id, signature: older[1].signature };
    await fs.writeFile(file, `${JSON.stringify(plan, null, 2)}\n`, { mode: 0o600 });
    const read = await readPlan(file, state);
    expect(read.id).toBe(older[1].id);
    expect(read.panels).toHaveLength(300);
  });

  it('hashes and signs exactly the one-string form, for plans of every size and shape', async () => {
    const state = await stateDirWithKey();
    for (const panels of [0, 1, 2, 7, 64, 250, 600]) {
      const plan = samplePlan(panels);
      const text = oneStringCanonical(plan);
      expect(planIdOf(plan)).toBe(createHash('sha256').update(text).digest('hex').slice(0, 16));
      const signed = await signPlan(plan, state);
      const { signature: _signature, ...withId } = signed;
      expect(signed.signature).toBe(createHmac('sha256', KEY).update('bulk-plan').update('\0').update(oneStringCanonical(withId)).digest('hex'));
    }
  });

  it('writes odd values as the one-string form did (undefined and functions in lists and maps, nulls, nesting)', () => {
    const odd = {
      format: 'panelctl-bulk-plan/1',
      createdAt: 'x',
      source: { file: 'f', rows: 1 },
      panels: [],
      extra: [undefined, null, 1, () => 1, { b: undefined, a: [[], {}, [null]], 'é"\n': 'v' }],
      fn: () => 1,
    } as unknown as BulkPlan;
    const { id: _id, signature: _signature, ...rest } = odd;
    expect(planIdOf(odd)).toBe(createHash('sha256').update(oneStringCanonical(rest)).digest('hex').slice(0, 16));
  });

  it('a plan read back from its file keeps its id and signature (written, then checked panel by panel)', async () => {
    const state = await stateDirWithKey();
    const file = path.join(state, 'plan.json');
    const written = await writePlan(file, { ...samplePlan(120), id: '' } as BulkPlan, state);
    const read = await readPlan(file, state);
    expect(read.id).toBe(written.id);
    expect(JSON.parse(JSON.stringify(read))).toEqual(JSON.parse(JSON.stringify(written)));
  });

  it('names the first problem in a plan with its place, panel by panel as the one schema over the whole plan did', async () => {
    const state = await stateDirWithKey();
    const file = path.join(state, 'plan.json');
    const written = JSON.parse(JSON.stringify(await signPlan(samplePlan(5), state)));
    const badPanel = written.panels.findIndex((p: { steps: unknown[] }) => p.steps.length > 0);
    written.panels[badPanel].steps[0].slot = 'two';
    written.panels[badPanel + 1].facts = 'nothing';
    await fs.writeFile(file, JSON.stringify(written), { mode: 0o600 });
    await expect(readPlan(file, state)).rejects.toThrow(
      `is not a panelctl bulk plan (panels.${badPanel}.steps.0.slot: Invalid input: expected number, received string)`,
    );
    written.format = 'other';
    await fs.writeFile(file, JSON.stringify(written), { mode: 0o600 });
    await expect(readPlan(file, state)).rejects.toThrow('is not a panelctl bulk plan (format: Invalid input: expected "panelctl-bulk-plan/1")');
  });

  it('drops fields the schema does not know, as before (the id and signature cover the plan without them)', async () => {
    const state = await stateDirWithKey();
    const file = path.join(state, 'plan.json');
    const written = JSON.parse(JSON.stringify(await signPlan(samplePlan(3), state)));
    written.panels[1].note = 'added by hand';
    written.panels[2].facts.extra = true;
    await fs.writeFile(file, JSON.stringify(written), { mode: 0o600 });
    const read = await readPlan(file, state);
    expect(read.panels[1]).not.toHaveProperty('note');
    expect(read.panels[2].facts).not.toHaveProperty('extra');
  });
});
