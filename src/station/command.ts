import { spawn } from 'node:child_process';
import { PanelRefusedError, UnreachableError } from '../core/errors.js';
import { noticeBody, type NoticeReceipt, type StationAdapter, type StationNotice } from './types.js';

/** What a station program gets from panelctl's environment unless the inventory names more. */
export const BASE_ENV = ['PATH', 'HOME', 'LANG', 'TZ'] as const;
/** Windows cannot start most programs without these (no secrets in them). */
const WINDOWS_ENV = ['SYSTEMROOT', 'WINDIR', 'PATHEXT', 'COMSPEC', 'TEMP', 'TMP'];

/**
 * The station program's environment: the base variables, the ones the inventory names in
 * `station.env`, and PANELCTL_STATION_EVENT. Nothing else: panelctl's own environment holds
 * panel credentials (`env:` secrets) that a station program has no business seeing.
 */
export function stationEnv(event: string, names: readonly string[] = [], from: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const platform = process.platform === 'win32' ? WINDOWS_ENV : [];
  for (const name of [...BASE_ENV, ...platform, ...names]) if (from[name] !== undefined) env[name] = from[name];
  env.PANELCTL_STATION_EVENT = event;
  return env;
}

/**
 * Runs a configured program with the notice as JSON on stdin; exit status 0 means the station
 * has it. The first line of the program's stderr is shown when it fails. No shell is involved,
 * so nothing in the notice can be interpreted as a command.
 */
export function commandStation(argv: string[], timeoutMs = 30_000, envNames: readonly string[] = []): StationAdapter {
  return {
    kind: 'command',
    notify(notice: StationNotice) {
      return new Promise<NoticeReceipt>((resolve, reject) => {
        const child = spawn(argv[0], argv.slice(1), {
          stdio: ['pipe', 'ignore', 'pipe'],
          env: stationEnv(notice.event, envNames),
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => {
          if (stderr.length < 2000) stderr += chunk.toString();
        });
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          child.kill('SIGTERM');
        }, timeoutMs);
        child.on('error', (error: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          reject(
            new UnreachableError('E_STATION_UNREACHABLE', `could not run the station command ${argv[0]} (${error.code ?? error.message})`, {
              hint: 'check `station.command` in the inventory',
              // The program never ran, so the station heard nothing.
              data: { delivery: 'not-delivered' },
            }),
          );
        });
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          if (code === 0) return resolve({ confirmed: true });
          const first = stderr.trim().split('\n')[0];
          const said = first ? `: ${first.slice(0, 200)}` : '';
          if (timedOut || signal) {
            // It ran and was cut off: it may well have told the station already.
            reject(
              new UnreachableError(
                'E_STATION_UNREACHABLE',
                `the station command ${argv[0]} did not finish ${timedOut ? `within ${timeoutMs} ms` : `(stopped by ${signal})`}${said}`,
                {
                  hint: `the station may have received the ${notice.event} notice; if the program is slow, raise station.timeoutMs in the inventory`,
                  data: { delivery: 'unknown' },
                },
              ),
            );
            return;
          }
          reject(
            new PanelRefusedError('E_STATION_REFUSED', `the station command ${argv[0]} exited with status ${code}${said}`, { data: { delivery: 'refused' } }),
          );
        });
        // A program that does not read stdin closes it early; that is its business, not an error.
        child.stdin.on('error', () => undefined);
        child.stdin.end(noticeBody(notice));
      });
    },
  };
}
