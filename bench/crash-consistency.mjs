// Crash consistency of bulk apply (issue 13, "Proof"): kill -9 at randomised points of sharded
// and unsharded applies of one plan, and of two different plans touching the same slots, run
// through the real binary against INTEGRA, Modbus and DSC simulators; resume until settled;
// then read the simulators' state files and count:
//   lost       a codes file says `applied` but the panel holds another code (and no later plan
//              wrote that slot), or an applied line whose step the journal never saw done
//   repeated   writes a simulator carried out beyond one per step that landed
//   unsettled  steps left E_UNCERTAIN although the panel could tell (INTEGRA, Modbus)
//   failed     steps that ended failed for any other reason (e.g. E_VERIFY on a code proven absent)
// DSC steps cut mid-write cannot be told (a DSC cannot show a code): counted apart, as `byHand`.
//
//   node bench/crash-consistency.mjs [--kills 200] [--seed 1] [--json]
// Needs a build (npm run build). Exit status 0 only when lost, repeated, unsettled, failed are all 0.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'bin/panelctl.js');
const { createSimulator: createIntegra } = await import(path.join(ROOT, 'dist/drivers/integra/simulator.js'));
const { createSimulator: createModbus } = await import(path.join(ROOT, 'dist/drivers/modbus/simulator.js'));
const { createSimulator: createDsc } = await import(path.join(ROOT, 'dist/drivers/dsc/simulator.js'));
const { serveTcp } = await import(path.join(ROOT, 'dist/src/transport/tcp.js'));

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const TARGET_KILLS = Number(flag('--kills', '200'));
let seed = Number(flag('--seed', '1'));
const JSON_ONLY = args.includes('--json');
const random = () => {
  // mulberry32: a reproducible run for a given --seed
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (list) => list[Math.floor(random() * list.length)];
const log = (line) => JSON_ONLY || process.stderr.write(`${line}\n`);

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-crash-'));
const env = {
  PATH: process.env.PATH,
  HOME: dir,
  NO_COLOR: '1',
  PANELCTL_OPERATOR: 'crash-bench',
  PANELCTL_INVENTORY: path.join(dir, 'inventory.yaml'),
  PANELCTL_DEMO_DIR: path.join(dir, 'demo'),
};

// The panels: each a simulator with a state file, on a loopback port.
const panels = [];
const servers = [];
async function addPanel(name, kind, sim, inventoryLine) {
  const server = await serveTcp('127.0.0.1', 0, (stream) => sim.accept(stream));
  servers.push(server);
  panels.push({ name, kind, sim, line: inventoryLine(server.port), statePath: path.join(dir, `${name}.json`) });
}
for (let i = 0; i < 2; i++) {
  const statePath = path.join(dir, `integra-${i}.json`);
  const sim = await createIntegra({ users: 6, statePath, options: { latencyMs: 3 } });
  env.INTEGRA_CODE = sim.demoSecrets().code;
  await addPanel(`integra-${i}`, 'integra', sim, (port) => `  integra-${i}: { driver: integra, link: "tcp://127.0.0.1:${port}", secret: env:INTEGRA_CODE }`);
}
for (let i = 0; i < 2; i++) {
  const statePath = path.join(dir, `modbus-${i}.json`);
  const sim = await createModbus({ users: 6, statePath, options: { profile: 'demo-modbus', latencyMs: 3 } });
  await addPanel(
    `modbus-${i}`,
    'modbus',
    sim,
    (port) => `  modbus-${i}: { driver: modbus, link: "tcp://127.0.0.1:${port}", options: { profile: demo-modbus, unit: 1 } }`,
  );
}
{
  const statePath = path.join(dir, 'dsc-0.json');
  const sim = await createDsc({ users: 6, statePath, options: { codeLength: 4 } });
  env.DSC_MASTER = sim.demoSecrets().code;
  env.DSC_TPI = sim.demoSecrets().tpiPassword;
  await addPanel(
    'dsc-0',
    'dsc',
    sim,
    (port) =>
      `  dsc-0: { driver: dsc, link: "tcp://127.0.0.1:${port}", secret: env:DSC_MASTER, secrets: { tpiPassword: env:DSC_TPI }, options: { codeLength: 4 } }`,
  );
}
await fs.writeFile(env.PANELCTL_INVENTORY, `panels:\n${panels.map((p) => p.line).join('\n')}\n`);

/** The code each slot holds, read from the simulator's state file (what it saved after every write). */
async function codesOnPanel(panel) {
  const state = JSON.parse(await fs.readFile(panel.statePath, 'utf8'));
  const codes = {};
  if (panel.kind === 'integra') for (const [slot, u] of Object.entries(state.users)) codes[slot] = u.code;
  if (panel.kind === 'modbus') for (const [slot, u] of Object.entries(state.users ?? {})) codes[slot] = u.code;
  if (panel.kind === 'dsc') for (const [slot, code] of Object.entries(state.codes)) codes[slot] = code;
  return codes;
}

/** Writes carried out by each simulator since the last call: per slot where it can say, else per panel. */
const seen = new Map();
function writesSince(panel) {
  if (panel.kind === 'modbus') {
    // The demo-modbus profile has a commit register (100): a user-table write takes effect only when it
    // is written. A write staged by a run killed before its commit never reached the panel's table, and a
    // resume rightly finds it absent and writes it; so a write counts once committed (an apply follows it
    // before the next write to that slot).
    const perSlot = {};
    const log = panel.sim.stats.writeLog;
    log.forEach((w, i) => {
      if (w.address < 1000) return;
      const slot = Math.floor((w.address - 1000) / 16) + 1;
      const next = log.slice(i + 1).find((x) => x.address === 100 || (x.address >= 1000 && Math.floor((x.address - 1000) / 16) + 1 === slot));
      if (next?.address === 100) perSlot[slot] = (perSlot[slot] ?? 0) + 1;
    });
    panel.sim.stats.writeLog.length = 0;
    return { total: Object.values(perSlot).reduce((a, b) => a + b, 0), perSlot };
  }
  const before = seen.get(panel.name) ?? 0;
  seen.set(panel.name, panel.sim.stats.writes);
  return { total: panel.sim.stats.writes - before };
}
for (const p of panels) writesSince(p);

function run(argv, stateDir, killAt) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...argv], { env: { ...env, PANELCTL_STATE_DIR: stateDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let killed = false;
    let poll;
    if (killAt) {
      poll = setInterval(async () => {
        if (killed || child.exitCode !== null) return;
        if ((await killAt.lines()) < killAt.after) return;
        clearInterval(poll);
        setTimeout(
          () => {
            if (child.exitCode === null && child.signalCode === null) {
              killed = true;
              child.kill('SIGKILL');
            }
          },
          Math.floor(random() * 12),
        );
      }, 3);
    }
    child.on('close', (code) => {
      clearInterval(poll);
      resolve({ code, killed, stdout, stderr });
    });
  });
}

async function journalOf(stateDir, planId) {
  // The plan's directory; older builds kept one directory per shard beside it (read too, to compare).
  const base = path.join(stateDir, 'bulk');
  const files = [];
  for (const dirName of await fs.readdir(base).catch(() => [])) {
    if (dirName !== planId && !dirName.startsWith(`${planId}.shard-`)) continue;
    for (const name of await fs.readdir(path.join(base, dirName)).catch(() => []))
      if (/^journal.*\.jsonl$/.test(name)) files.push(path.join(base, dirName, name));
  }
  const lines = [];
  for (const file of files) {
    for (const line of (await fs.readFile(file, 'utf8')).split('\n')) {
      try {
        if (line.trim()) lines.push(JSON.parse(line));
      } catch {
        // cut short by the kill
      }
    }
  }
  return lines;
}

async function plan(stateDir, name, csv) {
  const file = path.join(stateDir, `${name}.csv`);
  await fs.mkdir(stateDir, { recursive: true, mode: 0o700 });
  await fs.writeFile(file, csv);
  const out = path.join(stateDir, `${name}.plan.json`);
  const planned = await run(['bulk', 'plan', file, '--out', out, '--all', '-o', 'json'], stateDir);
  if (planned.code !== 0) throw new Error(`plan failed: ${planned.stderr}`);
  const json = JSON.parse(planned.stdout);
  return { name, file: out, id: json.id, steps: json.totals.steps, codesFiles: [] };
}

const totals = {
  trials: 0,
  kills: 0,
  runs: 0,
  steps: 0,
  writes: 0,
  lost: 0,
  repeated: 0,
  unsettled: 0,
  failed: 0,
  byHand: 0,
  foundOnPanel: 0,
  writtenAfterAbsent: 0,
  refusedOverlap: 0,
  refusedPanelLocked: 0,
};
const problems = [];
problems.push = function (...items) {
  for (const item of items) log(`  problem: ${item}`);
  return Array.prototype.push.apply(this, items);
};

/** Starts an apply that is killed at a random journal length (or runs to the end when the draw says so). */
function killedApply(p, stateDir, extra, resume) {
  const codesOut = path.join(stateDir, `${p.name}-codes-${p.codesFiles.length}.csv`);
  p.codesFiles.push(codesOut);
  const argv = [
    'bulk',
    'apply',
    p.file,
    '--codes-out',
    codesOut,
    '--concurrency',
    String(1 + Math.floor(random() * 4)),
    ...extra,
    ...(resume ? ['--resume'] : []),
  ];
  const after = Math.floor(random() * (p.steps * 2 + 2));
  const kill = random() < 0.85 ? { after, lines: async () => (await journalOf(stateDir, p.id)).length } : undefined;
  return run(argv, stateDir, kill).then((r) => {
    totals.runs++;
    if (r.killed) totals.kills++;
    if (/E_PLAN_BUSY|another apply of this plan is running/.test(r.stderr)) totals.refusedOverlap++;
    if (/E_PANEL_LOCKED/.test(r.stdout + r.stderr)) totals.refusedPanelLocked++;
    return r;
  });
}

/** Resumes until a run ends without anything left but steps only a person can settle. */
async function settle(p, stateDir) {
  for (let round = 0; round < 8; round++) {
    const codesOut = path.join(stateDir, `${p.name}-codes-${p.codesFiles.length}.csv`);
    p.codesFiles.push(codesOut);
    const r = await run(['bulk', 'apply', p.file, '--resume', '--codes-out', codesOut, '-o', 'json'], stateDir);
    totals.runs++;
    if (r.code === 0) return JSON.parse(r.stdout).steps;
    if (r.code === 7) {
      const steps = JSON.parse(r.stdout).steps;
      if (steps.every((s) => s.status === 'done' || s.code === 'E_UNCERTAIN')) return steps;
      await new Promise((resolve) => setTimeout(resolve, 300));
      continue; // e.g. E_UNSETTLED: another plan must be resumed first
    }
    if (r.code === 4) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      continue;
    }
    throw new Error(`resume of ${p.name} exited ${r.code}: ${r.stderr}`);
  }
  return undefined;
}

async function check(plans, stateDir, final) {
  const journals = new Map();
  for (const p of plans) journals.set(p.name, await journalOf(stateDir, p.id));
  const doneAt = (p, panel, slot) =>
    journals
      .get(p.name)
      .filter((l) => l.panel === panel && l.slot === slot && l.event === 'done')
      .map((l) => l.time)
      .sort()
      .pop();
  for (const panel of panels) {
    const codes = await codesOnPanel(panel);
    const writes = writesSince(panel);
    totals.writes += writes.total;
    const slots = new Set(
      plans.flatMap((p) =>
        journals
          .get(p.name)
          .filter((l) => l.panel === panel.name)
          .map((l) => l.slot),
      ),
    );
    let expected = 0;
    for (const slot of slots) {
      let landedHere = 0;
      for (const p of plans) {
        const done = doneAt(p, panel.name, slot);
        const last = final.get(p.name)?.find((s) => s.panel === panel.name && s.slot === slot);
        if (done) landedHere++;
        else if (last?.code === 'E_UNCERTAIN') {
          totals.byHand++;
          if (panel.kind !== 'dsc') {
            totals.unsettled++;
            problems.push(`${p.name} ${panel.name} slot ${slot}: left uncertain although the panel can tell`);
          }
          // Written at most once, landed or not: nobody can say (a later plan may have overwritten it).
          landedHere++;
        } else if (last && last.status !== 'done') {
          totals.failed++;
          problems.push(`${p.name} ${panel.name} slot ${slot}: ended ${last.code} ${last.reason}`);
        }
      }
      expected += landedHere;
      if (writes.perSlot && (writes.perSlot[slot] ?? 0) > landedHere) {
        totals.repeated += writes.perSlot[slot] - landedHere;
        problems.push(`${panel.name} slot ${slot}: ${writes.perSlot[slot]} writes for ${landedHere} step(s) that landed (or may have)`);
      }
      // Lost: an `applied` line of the plan that wrote this slot last must be what the slot holds.
      const owners = plans
        .map((p) => ({ p, at: doneAt(p, panel.name, slot) }))
        .filter((o) => o.at)
        .sort((a, b) => (a.at < b.at ? -1 : 1));
      for (const p of plans) {
        for (const file of p.codesFiles) {
          const line = (await readCodes(file)).get(`${panel.name}#${slot}`);
          if (line?.status !== 'applied') continue;
          const isLast = owners.at(-1)?.p === p;
          if (!doneAt(p, panel.name, slot) || (isLast && codes[slot] !== line.code)) {
            totals.lost++;
            problems.push(`${p.name} ${panel.name} slot ${slot}: ${path.basename(file)} says applied, the panel holds another code`);
          }
        }
      }
    }
    if (!writes.perSlot && writes.total > expected) {
      totals.repeated += writes.total - expected;
      problems.push(`${panel.name}: ${writes.total} writes for ${expected} step(s) that landed (or may have)`);
    }
  }
  for (const p of plans) {
    for (const l of journals.get(p.name)) if (l.event === 'done' && l.how === 'found on the panel') totals.foundOnPanel++;
  }
}

async function readCodes(file) {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  const map = new Map();
  for (const line of text.trim().split('\n').slice(1)) {
    const [panel, slot, , code, status] = line.split(',');
    if (panel) map.set(`${panel}#${slot}`, { code, status });
  }
  return map;
}

const started = Date.now();
while (totals.kills < TARGET_KILLS) {
  totals.trials++;
  const stateDir = path.join(dir, `trial-${totals.trials}`);
  const scenario = pick(['unsharded', 'sharded', 'two-plans']);
  const plans = [];
  if (scenario === 'two-plans') {
    plans.push(await plan(stateDir, 'A', 'panel,action,slot,code\n*,set-code,1,generate\n*,set-code,2,generate\n*,set-code,3,generate\n'));
    plans.push(await plan(stateDir, 'B', 'panel,action,slot,code\n*,set-code,2,generate\n*,set-code,3,generate\n*,set-code,4,generate\n'));
    await Promise.all(plans.map((p) => killedApply(p, stateDir, [], false)));
  } else {
    plans.push(
      await plan(stateDir, 'P', 'panel,action,slot,code\n*,set-code,1,generate\n*,set-code,2,generate\n*,set-code,3,generate\n*,set-code,4,generate\n'),
    );
    const [p] = plans;
    if (scenario === 'sharded') await Promise.all([killedApply(p, stateDir, ['--shard', '0/2'], false), killedApply(p, stateDir, ['--shard', '1/2'], false)]);
    else await killedApply(p, stateDir, [], false);
    // A second interrupted round with other shard arguments, then a clean resume.
    const shards = pick([[], ['--shard', '0/3'], ['--shard', '1/2'], ['--shard', '0/1']]);
    await killedApply(p, stateDir, shards, true);
  }
  for (const p of plans) totals.steps += p.steps;
  const final = new Map();
  for (let pass = 0; pass < 2; pass++) for (const p of plans) final.set(p.name, await settle(p, stateDir));
  for (const p of plans) {
    if (final.get(p.name)) continue;
    totals.failed++;
    problems.push(`${p.name}: did not settle after repeated resumes`);
  }
  await check(plans, stateDir, final);
  log(
    `trial ${totals.trials} (${scenario}): kills ${totals.kills}/${TARGET_KILLS}, lost ${totals.lost}, repeated ${totals.repeated}, unsettled ${totals.unsettled}, failed ${totals.failed}`,
  );
}

for (const s of servers) await s.close();
for (const p of panels) await p.sim.close();
await fs.rm(dir, { recursive: true, force: true });
const summary = { ...totals, seconds: Math.round((Date.now() - started) / 1000), problems: problems.slice(0, 20) };
if (JSON_ONLY) process.stdout.write(`${JSON.stringify(summary)}\n`);
else {
  process.stdout.write(
    `crash consistency: ${totals.kills} kill -9 points over ${totals.trials} trials (${totals.runs} applies, ${totals.steps} planned steps, ${totals.writes} panel writes) in ${summary.seconds} s\n`,
  );
  process.stdout.write(
    `  lost writes ${totals.lost} · repeated writes ${totals.repeated} · unsettled although the panel could tell ${totals.unsettled} · failed ${totals.failed}\n`,
  );
  process.stdout.write(
    `  settled by asking the panel: ${totals.foundOnPanel} found landed · DSC steps left to a person: ${totals.byHand} · overlapping applies refused: ${totals.refusedOverlap} · panel-locked refusals: ${totals.refusedPanelLocked}\n`,
  );
  for (const p of problems.slice(0, 20)) process.stdout.write(`  problem: ${p}\n`);
}
process.exitCode = totals.lost + totals.repeated + totals.unsettled + totals.failed === 0 ? 0 : 1;
