import type net from 'node:net';
import { UnreachableError } from '../core/errors.js';
import { formatMs } from './channel.js';
import type { TimeoutOptions } from './types.js';

export interface ConnectWait extends TimeoutOptions {
  /** "tcp://10.0.0.5:7094", for the timeout message. */
  description: string;
  /** The event that says the socket is ready: 'connect', or 'secureConnect' once a TLS handshake is done. */
  readyOn: 'connect' | 'secureConnect';
  /** A socket error before that, as the typed error the attempt fails with. */
  failure(error: NodeJS.ErrnoException): Error;
  /** Asked when the socket is ready: an error refuses it (a panel certificate that is not trusted). */
  refusal?(): Error | undefined;
}

/**
 * Waits for a socket that is being opened (TCP, or TLS over it) to be ready, bounded by the deadline and the Ctrl-C
 * signal: E_TIMEOUT, E_ABORTED, or the caller's own error for a socket error or a refusal. On any failure the socket
 * is destroyed; on success it is handed back with none of the listeners added here.
 */
export function waitForConnection<S extends net.Socket>(socket: S, wait: ConnectWait): Promise<S> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onError = (error: NodeJS.ErrnoException) => fail(wait.failure(error));
    const onReady = () => {
      const refusal = wait.refusal?.();
      if (refusal) return fail(refusal);
      if (settled) return;
      settled = true;
      cleanup();
      resolve(socket);
    };
    const timer = setTimeout(
      () => fail(new UnreachableError('E_TIMEOUT', `cannot reach ${wait.description}: no connection within ${formatMs(wait.timeoutMs)}`)),
      wait.timeoutMs,
    );
    const onAbort = () => fail(new UnreachableError('E_ABORTED', 'cancelled', { transient: false }));
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off(wait.readyOn, onReady);
      wait.signal?.removeEventListener('abort', onAbort);
    };
    if (wait.signal?.aborted) return onAbort();
    wait.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', onError);
    socket.once(wait.readyOn, onReady);
  });
}
