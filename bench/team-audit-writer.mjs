// One audit writer for bench/team-audit.mjs: appends COUNT entries, one at a time, to STORE
// (a postgres:// URL, or files:DIR for a state dir), and prints each append's latency (ms) as JSON.
import { appendAudit } from '../dist/src/audit/log.js';
import { closeSharedStores, configureSharedStore } from '../dist/src/state/store.js';
import { PgSharedStore } from '../dist/src/state/postgres/store.js';

const [store, name, count] = process.argv.slice(2);
const dir = store.startsWith('files:') ? store.slice(6) : `/nonexistent/panelctl-bench-${name}`;
if (!store.startsWith('files:')) configureSharedStore(dir, async () => new PgSharedStore(store));
const latencies = [];
for (let i = 0; i < Number(count); i++) {
  const t = performance.now();
  await appendAudit(dir, { operator: name, panel: `panel-${i % 50}`, action: 'users.set-code', slot: (i % 30) + 1, outcome: 'ok', details: { i } });
  latencies.push(performance.now() - t);
}
await closeSharedStores();
process.stdout.write(JSON.stringify(latencies));
