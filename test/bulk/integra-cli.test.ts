import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { serveTcp, type TcpServerHandle } from '../../src/transport/tcp.js';
import { makeSandbox, type CliResult, type Sandbox } from '../support/cli.js';
import { ensureBuilt } from './support/build.js';
import { readCodesCsv } from '../support/codes-csv.js';

/**
 * The real binary against real INTEGRA simulators (drivers/integra), over TCP: plan, apply with
 * generated codes to a file, --reveal, and secrecy of everything printed or written. Skipped
 * only while the INTEGRA driver is still the placeholder.
 */

const integra = await import('../../drivers/integra/simulator.js');
const ready = await integra.createSimulator({}).then(
  async (sim) => {
    await sim.close();
    return true;
  },
  () => false,
);

type Sim = Awaited<ReturnType<typeof integra.createSimulator>> & { state: any; stats: { writes: number } };
const PANELS = 6;
let sandbox: Sandbox;
const sims: Sim[] = [];
const servers: TcpServerHandle[] = [];
const outputs: CliResult[] = [];

const userIn = (sim: Sim, slot: number) => sim.state.users?.get?.(slot) ?? sim.state.users?.[slot];
const run = async (args: string[], input?: string) => {
  const result = await sandbox.run(args, { input, env: { SITE_CODE: '1111' }, timeoutMs: 60_000 });
  outputs.push(result);
  return result;
};

describe.skipIf(!ready)('bulk with the INTEGRA driver, through the binary', () => {
  beforeAll(async () => {
    ensureBuilt();
    sandbox = await makeSandbox();
    const lines = ['panels:'];
    for (let i = 0; i < PANELS; i++) {
      const sim = (await integra.createSimulator({ users: 5 })) as Sim;
      const server = await serveTcp('127.0.0.1', 0, (stream) => sim.accept(stream));
      sims.push(sim);
      servers.push(server);
      lines.push(`  site-${i}: { driver: integra, link: "tcp://127.0.0.1:${server.port}", secret: env:SITE_CODE, tags: { chain: "${i % 2 ? 'b' : 'a'}" } }`);
    }
    await sandbox.writeInventory(`${lines.join('\n')}\n`);
  }, 60_000);

  afterAll(async () => {
    for (const s of servers) await s.close();
    for (const s of sims) await s.close();
    await sandbox?.cleanup();
  });

  it('plans, applies with generated codes to a 0600 file, and every panel ends as planned', async () => {
    const changes = path.join(sandbox.dir, 'changes.csv');
    await fs.writeFile(changes, 'panel,action,slot,name,partitions,code\n*,add,30,Branch Manager,1,generate\n*,remove,4,,,\n');
    const plan = path.join(sandbox.dir, 'plan.json');
    const planned = await run(['bulk', 'plan', changes, '--out', plan, '--all', '-o', 'json']);
    expect(planned.code, planned.stderr).toBe(0);
    expect(JSON.parse(planned.stdout).totals).toMatchObject({ panels: PANELS, steps: PANELS * 2, conflicts: 0 });

    const codesOut = path.join(sandbox.dir, 'new-codes.csv');
    const applied = await run(['bulk', 'apply', plan, '--codes-out', codesOut, '--concurrency', '4']);
    expect(applied.code, applied.stderr).toBe(0);
    expect((await fs.stat(codesOut)).mode & 0o777).toBe(0o600);
    const delivered = await readCodesCsv(codesOut);
    expect(delivered).toHaveLength(PANELS);
    for (let i = 0; i < PANELS; i++) {
      const line = delivered.find(([panel]) => panel === `site-${i}`)!;
      expect(line[4]).toBe('applied');
      expect(userIn(sims[i], 30)?.code).toBe(line[3]);
      expect(userIn(sims[i], 4)).toBeUndefined();
      expect(sims[i].stats.writes).toBe(2);
    }

    const secrets = delivered.map((l) => l[3]);
    const everything = `${outputs.map((o) => o.stdout + o.stderr).join('\n')}\n${await fs.readFile(plan, 'utf8')}\n${await sandbox.allWrittenText()}`;
    for (const code of secrets) expect(everything).not.toMatch(new RegExp(`(?<![0-9A-Za-z])${code}(?![0-9A-Za-z])`));
  });

  it('shows generated codes on stdout only with --reveal', async () => {
    const changes = path.join(sandbox.dir, 'changes-2.csv');
    await fs.writeFile(changes, 'panel,action,slot,code\nchain=a,set-code,30,generate\n');
    const plan = path.join(sandbox.dir, 'plan-2.json');
    expect((await run(['bulk', 'plan', changes, '--out', plan])).code).toBe(0);
    const applied = await run(['bulk', 'apply', plan, '--reveal', '-o', 'json']);
    expect(applied.code, applied.stderr).toBe(0);
    for (let i = 0; i < PANELS; i += 2) expect(applied.stdout).toContain(userIn(sims[i], 30).code);
  });
});
