import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readAudit } from '../../src/audit/log.js';
import type { DriverInfo, PanelSession } from '../../src/core/contract.js';
import { Secret } from '../../src/core/secret.js';
import { registryWith } from '../support/in-process.js';
import { audited, createUserStep, proofOfWrite } from '../../src/operations/user-steps.js';

/**
 * Issue 15 (the reported defect): a session that can write but not read was run through the real
 * createUserStep and audit: the write reached the panel, then the step failed "unsupported" and
 * the audit said `failed` for a change that was made.
 */

let stateDir: string;
beforeEach(async () => {
  stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-writeonly-'));
});
afterEach(async () => {
  await fs.rm(stateDir, { recursive: true, force: true });
});

function writeOnlySession() {
  const writes: string[] = [];
  const writer = {
    async createUser(user: { slot?: number; name: string }) {
      writes.push(`create ${user.slot ?? 'next'}`);
      return { slot: user.slot ?? 7, kind: 'user' as const, name: user.name, hasCode: true };
    },
    async changeCode() {
      writes.push('change');
    },
    async deleteUser() {
      writes.push('delete');
    },
  };
  const session: PanelSession = { writer, info: async () => ({}) as never, close: async () => undefined };
  return { session, writes };
}

const info: DriverInfo = {
  name: 'write-only',
  title: 'write-only test panel',
  transports: ['tcp'],
  facets: { writer: { proofs: ['panel-ack'], nextSlot: true }, reader: false, codeChecker: false, testMode: false, probe: false },
  codeRules: { minLength: 4, maxLength: 8 },
  slotRanges: [{ from: 1, to: 32, kind: 'user' }],
  secrets: [],
};

describe('a write-only session through createUserStep and the audit', () => {
  it('sends the write once, succeeds, and audits ok with proof panel-ack', async () => {
    const { session, writes } = writeOnlySession();
    const ctx = { operator: 'tester', stateDir, timeoutMs: 1000, drivers: registryWith({}) };
    const run = () => createUserStep(session, info, { name: 'Anna', code: new Secret('4826') });
    const done = await audited(ctx, { panel: 'p', driver: 'write-only', action: 'users.add' }, run, { proofOf: proofOfWrite });
    expect(done.proof).toBe('panel-ack');
    expect(writes).toEqual(['create next']);
    const [entry] = await readAudit(stateDir);
    expect(entry.outcome).toBe('ok');
    expect(entry).toMatchObject({ proof: 'panel-ack' });
  });
});
