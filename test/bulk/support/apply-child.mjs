// The apply engine in a process of its own, so a test can kill -9 it mid-run. It is the
// compiled engine (dist/) with the fake panels' driver; the journal, lock and codes files are
// the real ones. Usage: node apply-child.mjs '{"planFile":...,"resume":true,...}'
import * as errors from '../../../dist/src/core/errors.js';
import * as secret from '../../../dist/src/core/secret.js';
import { connectTcp, serveTcp } from '../../../dist/src/transport/tcp.js';
import { loadInventory } from '../../../dist/src/inventory/load.js';
import { allTargets } from '../../../dist/src/inventory/targets.js';
import { readPlan } from '../../../dist/src/bulk/plan.js';
import { applyPlan } from '../../../dist/src/bulk/apply.js';
import { CodeBook, GeneratedCodes } from '../../../dist/src/bulk/codes.js';
import { drivers } from '../../../dist/drivers/index.js';
import { fakePanels } from './fake-panel.mjs';

const args = JSON.parse(process.argv[2]);
const fake = fakePanels({ errors, transport: { connectTcp, serveTcp }, secret });
const targets = allTargets(await loadInventory(args.inventoryFile, true, '--inventory', drivers.names));
try {
  const report = await applyPlan(
    await readPlan(args.planFile, args.stateDir),
    new Map(targets.map((t) => [t.name, t])),
    { operator: 'child', stateDir: args.stateDir, timeoutMs: 2000, drivers },
    {
      concurrency: args.concurrency,
      resume: args.resume,
      retries: 3,
      backoffMs: 20,
      maxBackoffMs: 200,
      codes: { book: await CodeBook.load(args.codesFile), generated: await GeneratedCodes.open(args.codesOut, args.resume) },
      access: fake.access,
    },
  );
  const counts = {};
  for (const o of report.outcomes) counts[`${o.status}${o.how ? `:${o.how}` : ''}`] = (counts[`${o.status}${o.how ? `:${o.how}` : ''}`] ?? 0) + 1;
  process.stdout.write(
    `${JSON.stringify({ counts, failed: report.outcomes.filter((o) => o.status !== 'done').map((o) => `${o.panel} ${o.step.action} slot ${o.step.slot} ${o.code} ${o.reason}`) })}\n`,
  );
  process.exitCode = report.outcomes.every((o) => o.status === 'done') ? 0 : 7;
} catch (error) {
  process.stderr.write(`${error.code ?? ''} ${error.message}\n`);
  process.exitCode = error.exitCode ?? 1;
}
