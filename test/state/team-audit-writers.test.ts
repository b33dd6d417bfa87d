import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PgSharedStore } from '../../src/state/postgres/store.js';
import { migrate } from '../../src/state/postgres/migrations.js';
import { freshDatabase, postgresMissing } from '../support/postgres.js';

/**
 * Sixteen processes append to one desk's audit log at once (issue 18 item 4): every entry lands,
 * once, and the chain has no fork (each entry follows exactly one other; verify finds nothing).
 * The writers run the compiled modules (npm run build) as separate Node processes.
 */
const WRITER = fileURLToPath(new URL('../support/audit-writer.mjs', import.meta.url));
const run = promisify(execFile);

let url: string;
let store: PgSharedStore;

describe.skipIf(postgresMissing)('sixteen audit writers, one chain', () => {
  beforeAll(async () => {
    url = await freshDatabase('audit');
    store = new PgSharedStore(url);
    await migrate(store.db);
  });
  afterAll(() => store?.close());

  it('no entry is lost or doubled and the chain is intact', async () => {
    const writers = Array.from({ length: 16 }, (_, w) => run(process.execPath, [WRITER, url, `writer-${w}`, '40', w % 2 ? '4' : '1']));
    await Promise.all(writers);
    const entries = await store.audit.read();
    expect(entries).toHaveLength(16 * 40);
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    const seen = new Set(entries.map((e) => `${e.operator}#${e.details?.i}`));
    expect(seen.size).toBe(16 * 40);
    for (let w = 0; w < 16; w++) for (let i = 0; i < 40; i++) expect(seen.has(`writer-${w}#${i}`)).toBe(true);
    expect(await store.audit.verify()).toEqual({ entries: 16 * 40, problems: [] });
  }, 120_000);
});
