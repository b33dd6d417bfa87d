// One audit writer process for the team-store tests and bench: appends COUNT entries to the shared
// store at URL as operator NAME, CONCURRENCY at a time, and prints each append's latency (ms) as JSON.
import { appendAudit } from '../../dist/src/audit/log.js';
import { configureSharedStore, closeSharedStores } from '../../dist/src/state/store.js';
import { PgSharedStore } from '../../dist/src/state/postgres/store.js';

const [url, name, count, concurrency = '1'] = process.argv.slice(2);
const dir = `/nonexistent/panelctl-writer-${name}`;
configureSharedStore(dir, async () => new PgSharedStore(url));
const latencies = [];
let next = 0;
async function lane() {
  while (next < Number(count)) {
    const i = next++;
    const t = performance.now();
    await appendAudit(dir, { operator: name, panel: `panel-${i % 7}`, action: 'users.set-code', slot: (i % 30) + 1, outcome: 'ok', details: { i } });
    latencies.push(performance.now() - t);
  }
}
await Promise.all(Array.from({ length: Number(concurrency) }, lane));
await closeSharedStores();
process.stdout.write(JSON.stringify(latencies));
