import fs from 'node:fs';
import { UnreachableError } from '../core/errors.js';
import type { SerialSettings } from '../core/link.js';
import { formatMs } from './channel.js';
import type { ByteStream, TimeoutOptions } from './types.js';

/**
 * Serial links: RS-232 ports, USB adapters, and pseudo-terminals for rehearsal and tests.
 * The serialport package (and its native binding) loads only here, only when used.
 */

type SerialPortLike = import('serialport').SerialPort;

const WATCH_MS = 300;

async function explainMissing(): Promise<string> {
  const { listPorts } = await import('./ports.js');
  const { ports } = await listPorts().catch(() => ({ ports: [] as Array<{ path: string }> }));
  return ports.length ? `ports that exist: ${ports.map((p) => p.path).join(', ')}` : 'no serial ports were found on this computer (is the adapter plugged in?)';
}

async function openError(path: string, error: Error & { code?: string }): Promise<UnreachableError> {
  const text = `${error.message} ${error.code ?? ''}`;
  if (/ENOENT|No such file|cannot find the file|File not found/i.test(text)) {
    return new UnreachableError('E_NO_PORT', `serial port ${path} does not exist`, { hint: await explainMissing(), transient: false });
  }
  if (/EACCES|Permission denied|Access denied/i.test(text)) {
    const hint =
      process.platform === 'linux'
        ? 'add yourself to the dialout group: sudo usermod -aG dialout $USER, then log out and in again'
        : process.platform === 'win32'
          ? 'another program may hold the COM port, or it needs administrator rights'
          : 'check the device permissions (ls -l the device); on macOS use the /dev/cu.* device';
    return new UnreachableError('E_PORT_PERMISSION', `permission denied opening serial port ${path}`, { hint, transient: false });
  }
  if (/Cannot lock port|Resource temporarily unavailable|EBUSY|Access is denied/i.test(text)) {
    return new UnreachableError('E_PORT_BUSY', `serial port ${path} is busy: another program has it open`, {
      hint: 'close the other program (a terminal, DLOADX, another panelctl) and try again',
      transient: false,
    });
  }
  return new UnreachableError('E_PORT', `cannot open serial port ${path}: ${error.message}`, { cause: error });
}

/** Wraps an open port as a ByteStream; a vanished device (unplugged adapter) ends the stream. */
function portStream(port: SerialPortLike, path: string): ByteStream {
  let closed = false;
  let lastError: Error | undefined;
  const closeListeners = new Set<(error?: Error) => void>();
  const end = (error?: Error) => {
    if (closed) return;
    closed = true;
    clearInterval(watch);
    for (const listener of closeListeners) listener(error ?? lastError);
    closeListeners.clear();
  };
  port.on('error', (error) => {
    lastError = error;
  });
  port.on('close', (error: Error | null) => end(error ?? undefined));
  // A pseudo-terminal or USB adapter that goes away does not always fail reads; its device node does vanish.
  const watch = setInterval(() => {
    if (process.platform !== 'win32' && !fs.existsSync(path)) {
      end(new Error(`the serial device ${path} disappeared (cable or adapter unplugged?)`));
      port.close(() => undefined);
    }
  }, WATCH_MS);
  watch.unref();
  return {
    description: `serial://${path}`,
    get closed() {
      return closed;
    },
    write(data) {
      return new Promise((resolve, reject) => {
        if (closed) return reject(new UnreachableError('E_LOST', `lost the panel: serial port ${path} is closed`));
        port.write(Buffer.from(data), (error) => {
          if (error) return reject(new UnreachableError('E_LOST', `lost the panel: cannot write to ${path} (${error.message})`, { cause: error }));
          port.drain(() => resolve());
        });
      });
    },
    onData(listener) {
      port.on('data', listener);
      return () => port.off('data', listener);
    },
    onClose(listener) {
      if (closed) {
        listener(lastError);
        return () => undefined;
      }
      closeListeners.add(listener);
      return () => closeListeners.delete(listener);
    },
    close() {
      return new Promise((resolve) => {
        if (closed || !port.isOpen) {
          end();
          return resolve();
        }
        port.close(() => {
          end();
          resolve();
        });
      });
    },
  };
}

export async function openSerial(path: string, settings: SerialSettings, options: TimeoutOptions): Promise<ByteStream> {
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path, ...settings, autoOpen: false, lock: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new UnreachableError('E_TIMEOUT', `serial port ${path} did not open within ${formatMs(options.timeoutMs)}`)),
      options.timeoutMs,
    );
    port.open((error) => {
      clearTimeout(timer);
      if (error) openError(path, error).then(reject, reject);
      else resolve();
    });
  });
  return portStream(port, path);
}

/**
 * Serves a simulator on a serial device: one long-lived "connection" per open. If the far
 * side goes away and comes back, the port is reopened.
 */
export async function serveSerial(path: string, settings: SerialSettings, onConnection: (stream: ByteStream) => void): Promise<{ close(): Promise<void> }> {
  let current = await openSerial(path, settings, { timeoutMs: 5000 });
  let stopped = false;
  const attach = (stream: ByteStream) => {
    onConnection(stream);
    stream.onClose(() => {
      if (stopped) return;
      const retry = setInterval(async () => {
        if (stopped) return clearInterval(retry);
        try {
          current = await openSerial(path, settings, { timeoutMs: 2000 });
          clearInterval(retry);
          attach(current);
        } catch {
          // still gone; try again
        }
      }, 500);
      retry.unref();
    });
  };
  attach(current);
  return {
    async close() {
      stopped = true;
      await current.close();
    },
  };
}
