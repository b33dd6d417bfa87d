import type { SerialSettings } from '../../core/link.js';
import { paced } from '../../transport/pace.js';
import { serveTcp, type TcpServerHandle } from '../../transport/tcp.js';
import type { ByteStream } from '../../transport/types.js';

/** A byte-stream simulator: it takes each accepted connection (a self-serving one has listen() instead). */
type StreamSimulator = { accept(stream: ByteStream): void };

/** Serves a simulator on TCP (tests, `panelctl sim --listen`). */
export function listenTcp(simulator: StreamSimulator, host = '127.0.0.1', port = 0): Promise<TcpServerHandle> {
  return serveTcp(host, port, (stream) => simulator.accept(stream));
}

/** Serves a simulator on a serial device or pty, reopening it when the other end goes (`panelctl sim --serial`). */
export async function serveSerialPort(simulator: StreamSimulator, path: string, settings: SerialSettings): Promise<{ close(): Promise<void> }> {
  // Loaded when used: the serialport package is not needed to serve TCP.
  const { serveSerial } = await import('../../transport/serial.js');
  return serveSerial(path, settings, (stream) => simulator.accept(stream));
}

/**
 * The stream a simulator writes its answers to: paced like a serial line at `baud` when asked
 * (pseudo-terminals move bytes instantly), with `bitsPerChar` bits on the wire per byte (10 for
 * 8N1; 11 for 8E1/8N2 as Modbus RTU uses).
 */
export function pacedOutput(raw: ByteStream, baud: number | undefined, bitsPerChar = 10): ByteStream {
  return baud ? paced(raw, (baud * 10) / bitsPerChar) : raw;
}
