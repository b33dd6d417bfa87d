// Test-mode leases as panelctl writes them, for the status benchmarks (test-mode-status.mjs, team-status.mjs).
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';

/** An active lease on panel site-NNNNN; a tenth of them overdue, so the red path is exercised too. */
export function benchLease(i, now = Date.now()) {
  return {
    v: 1,
    id: randomUUID(),
    panel: `site-${String(i).padStart(5, '0')}`,
    driver: 'integra',
    account: String(10000 + i),
    from: new Date(now - 60_000).toISOString(),
    until: new Date(now + (i % 10 === 0 ? -60_000 : 45 * 60_000)).toISOString(),
    operator: 'bench',
    station: 'webhook',
    stationOnTest: true,
    panelTest: 'none',
    phase: 'active',
  };
}

/** `count` lease files in STATE_DIR/leases, private as panelctl keeps them. */
export function writeLeaseFiles(stateDir, count, now = Date.now()) {
  const dir = path.join(stateDir, 'leases');
  fs.mkdirSync(dir, { mode: 0o700 });
  for (let i = 0; i < count; i++) {
    const lease = benchLease(i, now);
    fs.writeFileSync(path.join(dir, `${lease.panel}.json`), JSON.stringify(lease), { mode: 0o600 });
  }
}
