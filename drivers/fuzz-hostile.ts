import type { ByteStream } from '../src/driver-kit/index.js';
import { memoryPair } from '../src/driver-kit/index.js';

/**
 * The hostile-peer cases of the fuzz harness (bench/fuzz.mjs, test/drivers/hostile-fuzz.test.ts),
 * for every driver's fuzz target: a peer that echoes what the driver sends must end the
 * conversation in E_ECHO (exit 5), and a peer that floods valid frames answering nothing must end
 * it in E_FLOOD (exit 5) while what the driver holds stays under a fixed cap, checked after every
 * chunk: the bound is per byte processed, never per unit of time.
 */

export interface HostileTarget {
  name: string;
  hostile: {
    /** Starts the conversation one command has (open + ask) on `stream`. */
    start(stream: ByteStream): { done: Promise<unknown>; held: () => number };
    /** The most `held()` may ever say (frames queued + bytes buffered). */
    cap: number;
    /** Valid frames a peer could send that answer nothing the conversation asks. */
    unrelated: Uint8Array[];
  };
}

interface Failure {
  code?: string;
  exitCode?: number;
  message?: string;
}

function describe(outcome: unknown): string {
  if (outcome === undefined) return 'success';
  const f = outcome as Failure;
  return `${f.code ?? 'an error'} (exit ${f.exitCode ?? '?'}): ${f.message ?? String(outcome)}`;
}

/** Echo: every byte the driver writes comes straight back. */
export async function echoCase(target: HostileTarget): Promise<void> {
  const [client, peer] = memoryPair('echo');
  peer.onData((chunk) => void peer.write(chunk).catch(() => undefined));
  const outcome = await target.hostile.start(client).done.then(
    () => undefined,
    (error: unknown) => error,
  );
  await client.close();
  const f = outcome as Failure | undefined;
  if (f?.code !== 'E_ECHO' || f.exitCode !== 5) throw new Error(`${target.name}: an echoing peer ended in ${describe(outcome)}, not E_ECHO (exit 5)`);
}

export interface FloodResult {
  /** Bytes of flood the driver processed. */
  bytes: number;
  /** The most the driver held after any chunk. */
  maxHeld: number;
  /** Heap growth over the flood (noisy without a forced GC: for the bench's generous bound only). */
  heapDelta: number;
}

/** Flood: once the driver asks, `totalBytes` of valid, unrelated frames arrive in 64 KB chunks. */
export async function floodCase(target: HostileTarget, totalBytes: number): Promise<FloodResult> {
  const [client, peer] = memoryPair('flood');
  const asked = new Promise<void>((resolve) => peer.onData(() => resolve()));
  const { done, held } = target.hostile.start(client);
  const outcome = done.then(
    () => undefined,
    (error: unknown) => error,
  );
  await Promise.race([asked, outcome]);
  const frames = Buffer.concat(target.hostile.unrelated.map((f) => Buffer.from(f)));
  const chunk = Buffer.concat(Array(Math.max(1, Math.ceil(65536 / frames.length))).fill(frames));
  const heapBefore = process.memoryUsage().heapUsed;
  let bytes = 0;
  let maxHeld = 0;
  while (bytes < totalBytes && !peer.closed) {
    await peer.write(chunk).catch(() => undefined);
    bytes += chunk.length;
    maxHeld = Math.max(maxHeld, held());
    if (held() > target.hostile.cap) throw new Error(`${target.name}: holds ${held()} after ${bytes} bytes of flood (cap ${target.hostile.cap})`);
  }
  const heapDelta = process.memoryUsage().heapUsed - heapBefore;
  const f = (await outcome) as Failure | undefined;
  await client.close();
  if (f?.code !== 'E_FLOOD' || f.exitCode !== 5) throw new Error(`${target.name}: a flood ended in ${describe(f)}, not E_FLOOD (exit 5)`);
  return { bytes, maxHeld, heapDelta };
}
