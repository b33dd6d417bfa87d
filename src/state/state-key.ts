import fs from 'node:fs/promises';
import { lstatSync } from 'node:fs';
import path from 'node:path';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { UsageError } from '../core/errors.js';
import { createPrivateFile, readPrivateFile, readPrivateFileNow, replacePrivateFile } from './safe-file.js';
import { ensurePrivateDir } from './private-files.js';
import { sharedStore } from './store.js';

/**
 * What is signed: a text, or a function that writes it piece by piece into the HMAC (a plan of
 * 10,000 panels is never built as one string: src/bulk/plan.ts). Both give the same signature.
 */
export type SignedData = string | ((write: (text: string) => void) => void);

function hmacOf(key: Buffer, purpose: string, data: SignedData): string {
  const hmac = createHmac('sha256', key).update(purpose).update('\0');
  if (typeof data === 'string') hmac.update(data);
  else data((text) => hmac.update(text));
  return hmac.digest('hex');
}

/**
 * The state key: 32 random bytes that bind what this state dir wrote (bulk plans, the audit
 * head) to it, as HMAC-SHA256. Whoever can read the key can forge what it signs: it proves "made
 * here, unchanged since", not "made by a particular person" (SECURITY.md). The files backend keeps
 * it in <state dir>/state.key (0600, created O_EXCL on first use, read through a checked
 * descriptor); a team backend keeps it in its database behind the same interface.
 */
export interface StateKey {
  /** HMAC-SHA256 over `purpose` and `data`, hex. The purpose keeps one signature from passing as another. */
  sign(purpose: string, data: SignedData): string;
  verify(purpose: string, data: SignedData, signature: string): boolean;
  /** True once the audit log has had an entry, so a missing log means it was deleted. */
  readonly auditStarted: boolean;
  markAuditStarted(): Promise<void>;
}

interface KeyFile {
  format: 'panelctl-state-key/1';
  key: string;
  auditStarted?: boolean;
}

export const stateKeyPath = (stateDir: string) => path.join(stateDir, 'state.key');

class FileStateKey implements StateKey {
  constructor(
    private readonly file: string,
    private readonly key: Buffer,
    public auditStarted: boolean,
  ) {}

  sign(purpose: string, data: SignedData): string {
    return hmacOf(this.key, purpose, data);
  }

  verify(purpose: string, data: SignedData, signature: string): boolean {
    const expected = Buffer.from(this.sign(purpose, data), 'hex');
    const given = Buffer.from(/^[0-9a-f]{64}$/.test(signature) ? signature : '', 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  async markAuditStarted(): Promise<void> {
    if (this.auditStarted) return;
    const content: KeyFile = { format: 'panelctl-state-key/1', key: this.key.toString('base64'), auditStarted: true };
    await replacePrivateFile(this.file, `${JSON.stringify(content)}\n`, 'state key', { directoryChecked: true });
    this.auditStarted = true;
  }
}

/** A key held elsewhere (a shared store's): signs and verifies like the file's; its audit is tracked by its store. */
export function keyFromBytes(key: Buffer): StateKey {
  const sign = (purpose: string, data: SignedData) => hmacOf(key, purpose, data);
  return {
    sign,
    verify(purpose, data, signature) {
      const expected = Buffer.from(sign(purpose, data), 'hex');
      const given = Buffer.from(/^[0-9a-f]{64}$/.test(signature) ? signature : '', 'hex');
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
    auditStarted: true,
    markAuditStarted: async () => undefined,
  };
}

function parseKeyFile(text: string, file: string): FileStateKey {
  try {
    const parsed = JSON.parse(text) as KeyFile;
    const key = Buffer.from(parsed.key, 'base64');
    if (parsed.format === 'panelctl-state-key/1' && key.length === 32) return new FileStateKey(file, key, parsed.auditStarted === true);
  } catch {
    // reported below
  }
  throw new UsageError(`state key ${file} is damaged`, {
    code: 'E_STATE_KEY',
    hint: 'restore it from a backup; plans made with it cannot be applied without it',
  });
}

/**
 * The state dir's key. With `create`, made on first use: written whole into a new temp file
 * (O_EXCL|O_NOFOLLOW, 0600), then linked to its name, which fails if another process won the
 * race, so every process ends up with the same key and nobody reads a half-written one.
 * Without `create`, undefined when there is none.
 */
export async function loadStateKey(stateDir: string, options: { create: boolean }): Promise<StateKey | undefined> {
  // A desk's shared store keeps one key for everyone (a plan made on one machine applies on any).
  const shared = await sharedStore(stateDir);
  if (shared) return shared.stateKey();
  return loadStateKeyFile(stateDir, options);
}

/** The key in this state dir's file, whatever store is configured (the files audit log is signed with it). */
export async function loadStateKeyFile(stateDir: string, options: { create: boolean }): Promise<StateKey | undefined> {
  const file = stateKeyPath(stateDir);
  const existing = await readKey(file);
  if (existing || !options.create) return existing;
  await ensurePrivateDir(stateDir);
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await createPrivateFile(temp, 'state key');
  try {
    const content: KeyFile = { format: 'panelctl-state-key/1', key: randomBytes(32).toString('base64') };
    await handle.writeFile(`${JSON.stringify(content)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.link(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await fs.rm(temp, { force: true });
  }
  return (await readKey(file)) as StateKey;
}

async function readKey(file: string): Promise<FileStateKey | undefined> {
  try {
    return parseKeyFile(await readPrivateFile(file, 'state key', 4096), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The key in this state dir's file when there is one, read synchronously (the audit log reads it
 * for every batch and every bulk step's check: safe-file.ts on why); undefined when there is none
 * yet (loadStateKeyFile makes it).
 */
export function readStateKeyFileNow(stateDir: string): StateKey | undefined {
  const file = stateKeyPath(stateDir);
  // Read again only when the file changed: a stat per step instead of an open, a stat, a read and a close (issue 20).
  const seen = lstatSync(file, { throwIfNoEntry: false });
  if (!seen) return undefined;
  const stamp = `${seen.dev}:${seen.ino}:${seen.size}:${seen.mode}:${seen.uid}:${seen.nlink}:${seen.mtimeMs}:${seen.ctimeMs}`;
  const known = keysRead.get(file);
  if (known?.stamp === stamp) return known.key;
  let key: FileStateKey;
  try {
    key = parseKeyFile(readPrivateFileNow(file, 'state key', 4096), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // Within one tick of the file system's clock a rewrite of the same size could keep the stamp:
  // a reading is kept only when the file had not changed for a while before it.
  if (Date.now() - Math.max(seen.mtimeMs, seen.ctimeMs) > SETTLED_MS) keysRead.set(file, { stamp, key });
  else keysRead.delete(file);
  return key;
}

/** Keys readStateKeyFileNow read, with the stat of their file then. */
const keysRead = new Map<string, { stamp: string; key: FileStateKey }>();
/** A file system clock tick is at most 10 ms: a file unchanged for ten times that moves its stamp with its next change. */
const SETTLED_MS = 100;
