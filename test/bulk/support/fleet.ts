import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as errors from '../../../src/core/errors.js';
import * as secret from '../../../src/core/secret.js';
import { connectTcp, serveTcp } from '../../../src/transport/tcp.js';
import { parseInventory } from '../../../src/inventory/load.js';
import { drivers } from '../../../drivers/index.js';
import { allTargets, type Target } from '../../../src/inventory/targets.js';
import type { OperationContext } from '../../../src/operations/context.js';
import { fakePanels } from './fake-panel.mjs';

/**
 * A fleet of simulated panels on real loopback TCP ports, with an inventory naming them.
 * The inventory says `integra` (the schema only knows the real drivers); the tests reach
 * the panels through the fake driver's PanelAccess instead of the registry.
 */

export const fake = fakePanels({ errors, transport: { connectTcp, serveTcp }, secret });

export type FakePanel = ReturnType<typeof fake.createPanel>;
export interface SeedUser {
  slot: number;
  name: string;
  code: string;
  partitions?: number[];
}

export interface Fleet {
  dir: string;
  stateDir: string;
  inventoryFile: string;
  panels: Map<string, { panel: FakePanel; port: number }>;
  targets: Target[];
  targetMap: Map<string, Target>;
  ctx: OperationContext;
  file(name: string, text: string, mode?: number): Promise<string>;
  close(): Promise<void>;
}

export const CREDENTIAL = '2580';

export async function startFleet(
  count: number,
  seed: (index: number) => { users: SeedUser[]; tags?: Record<string, string>; credential?: string; down?: boolean },
): Promise<Fleet> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-bulk-'));
  const stateDir = path.join(dir, 'state');
  process.env.BULK_TEST_CODE = CREDENTIAL;
  const panels = new Map<string, { panel: FakePanel; port: number }>();
  const lines = ['defaults:', '  timeoutMs: 2000', 'panels:'];
  for (let i = 0; i < count; i++) {
    const name = `p${String(i).padStart(3, '0')}`;
    const spec = seed(i);
    const panel = fake.createPanel({ credential: spec.credential ?? CREDENTIAL, users: spec.users });
    const server = await panel.listenTcp('127.0.0.1', 0);
    // A panel that is down points at port 1, where nothing listens: a port freed a moment ago could
    // be taken by a simulator of another test file running in parallel.
    if (spec.down) await panel.close();
    const port = spec.down ? 1 : server.port;
    panels.set(name, { panel, port });
    const tags = Object.entries(spec.tags ?? {})
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
    lines.push(`  ${name}:`, '    driver: integra', `    link: tcp://127.0.0.1:${port}`, '    secret: env:BULK_TEST_CODE', `    tags: { ${tags} }`);
  }
  const inventoryText = `${lines.join('\n')}\n`;
  const inventoryFile = path.join(dir, 'inventory.yaml');
  await fs.writeFile(inventoryFile, inventoryText);
  const targets = allTargets(parseInventory(inventoryText, inventoryFile, drivers.names));
  return {
    dir,
    stateDir,
    inventoryFile,
    panels,
    targets,
    targetMap: new Map(targets.map((t) => [t.name, t])),
    ctx: { operator: 'bulk-test', stateDir, timeoutMs: 2000, drivers },
    async file(name, text, mode = 0o600) {
      const file = path.join(dir, name);
      await fs.writeFile(file, text, { mode });
      await fs.chmod(file, mode);
      return file;
    },
    async close() {
      await Promise.all([...panels.values()].map(({ panel }) => panel.close()));
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Every file under a directory, as text, for secrecy scans. */
export async function allText(dir: string): Promise<string> {
  const chunks: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (entry.isFile()) chunks.push(await fs.readFile(path.join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name), 'latin1'));
  }
  return chunks.join('\n');
}
