import { spawn } from 'node:child_process';
import { PanelRefusedError, UnreachableError } from '../core/errors.js';
import { noticeBody, type StationAdapter, type StationNotice } from './types.js';

/**
 * Runs a configured program with the notice as JSON on stdin; exit status 0 means the station
 * has it. The first line of the program's stderr is shown when it fails. No shell is involved,
 * so nothing in the notice can be interpreted as a command.
 */
export function commandStation(argv: string[], timeoutMs = 30_000): StationAdapter {
  return {
    kind: 'command',
    notify(notice: StationNotice) {
      return new Promise((resolve, reject) => {
        const child = spawn(argv[0], argv.slice(1), {
          stdio: ['pipe', 'ignore', 'pipe'],
          env: { ...process.env, PANELCTL_STATION_EVENT: notice.event },
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => {
          if (stderr.length < 2000) stderr += chunk.toString();
        });
        const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
        child.on('error', (error: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          reject(
            new UnreachableError('E_STATION_UNREACHABLE', `could not run the station command ${argv[0]} (${error.code ?? error.message})`, {
              hint: 'check `station.command` in the inventory',
            }),
          );
        });
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          if (code === 0) return resolve();
          const why = signal ? `was stopped by ${signal}${signal === 'SIGTERM' ? ` after ${timeoutMs} ms` : ''}` : `exited with status ${code}`;
          const first = stderr.trim().split('\n')[0];
          reject(new PanelRefusedError('E_STATION_REFUSED', `the station command ${argv[0]} ${why}${first ? `: ${first.slice(0, 200)}` : ''}`));
        });
        // A program that does not read stdin closes it early; that is its business, not an error.
        child.stdin.on('error', () => undefined);
        child.stdin.end(noticeBody(notice));
      });
    },
  };
}
