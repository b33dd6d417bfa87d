import fs from 'node:fs/promises';
import { UsageError } from './errors.js';

/**
 * Reads a text file a person pointed panelctl at (inventory, change list, Modbus profile) with
 * a byte cap: at most `maxBytes` are ever read, so `/dev/zero`, a FIFO that never ends or a
 * 2 GB file is refused after `maxBytes` instead of filling memory. Reads are asynchronous,
 * chunk by chunk, so Ctrl-C and SIGTERM are handled while it reads.
 */

export const MiB = 1024 * 1024;

export class FileTooLargeError extends UsageError {
  constructor(what: string, file: string, maxBytes: number) {
    super(`${what} ${file} is larger than ${formatBytes(maxBytes)}, the limit for it`, {
      code: 'E_TOO_LARGE',
      hint: 'split it into smaller files (see README "Limits")',
    });
  }
}

export function formatBytes(bytes: number): string {
  return bytes >= MiB && bytes % MiB === 0 ? `${bytes / MiB} MiB` : bytes >= 1024 && bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

/** The file's text (UTF-8); throws the open/read error as is (ENOENT...), or FileTooLargeError. */
export async function readTextBounded(file: string, maxBytes: number, what: string): Promise<string> {
  const handle = await fs.open(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    const chunk = Buffer.allocUnsafe(Math.min(maxBytes + 1, MiB));
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, maxBytes + 1 - total), null);
      if (bytesRead === 0) break;
      chunks.push(Buffer.from(chunk.subarray(0, bytesRead)));
      total += bytesRead;
      if (total > maxBytes) throw new FileTooLargeError(what, file, maxBytes);
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    await handle.close();
  }
}
