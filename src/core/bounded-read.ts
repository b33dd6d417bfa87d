import fs from 'node:fs/promises';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { UsageError } from './errors.js';

/**
 * Reads a text file a person pointed panelctl at (inventory, change list, Modbus profile) with
 * a byte cap: at most `maxBytes` are ever read, so `/dev/zero`, a FIFO that never ends or a
 * 2 GB file is refused after `maxBytes` instead of filling memory. Anything but a regular file is
 * read asynchronously, chunk by chunk, so Ctrl-C and SIGTERM are handled while it waits for data
 * that may never come. A regular file always ends and the cap bounds it (32 MiB: milliseconds), so
 * it is read synchronously: the asynchronous reads loaded node:fs/promises and started libuv's
 * thread pool, ~3 ms of CPU on the way of every command with an inventory (issue 20).
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
  // O_NONBLOCK: opening a FIFO that has no writer yet must not block the process (it is then read the waiting way).
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (fstatSync(fd).isFile()) return readRegularNow(fd, file, maxBytes, what);
  } finally {
    closeSync(fd);
  }
  return readWaiting(file, maxBytes, what);
}

function readRegularNow(fd: number, file: string, maxBytes: number, what: string): string {
  const chunks: Buffer[] = [];
  let total = 0;
  const chunk = Buffer.allocUnsafe(Math.min(maxBytes + 1, MiB));
  for (;;) {
    const bytesRead = readSync(fd, chunk, 0, Math.min(chunk.length, maxBytes + 1 - total), null);
    if (bytesRead === 0) break;
    chunks.push(Buffer.from(chunk.subarray(0, bytesRead)));
    total += bytesRead;
    if (total > maxBytes) throw new FileTooLargeError(what, file, maxBytes);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

async function readWaiting(file: string, maxBytes: number, what: string): Promise<string> {
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
