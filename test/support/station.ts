import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A monitoring station's receiving end, as a real HTTP server: it checks the signature the way
 * the README tells stations to, records every notice, and answers with whatever status the test sets.
 */
export interface StationNoticeSeen {
  event: string;
  account: string;
  panel: string;
  from: string;
  until: string;
  lease: string;
  operator: string;
  ticket?: string;
  reason?: string;
}

export interface FakeStation {
  url: string;
  key: string;
  notices: StationNoticeSeen[];
  /** Requests whose signature did not verify (should stay empty). */
  badSignatures: number;
  status: number;
  /** Called with each accepted notice, before the answer is sent (tests use it to act mid-command). */
  onNotice?: (notice: StationNoticeSeen) => void;
  /** Answer each accepted notice of this event only after so many ms (a slow station). */
  delayMs: Partial<Record<'test.start' | 'test.stop', number>>;
  /** Answer with this redirect instead (3xx status and Location). */
  redirect?: { status: number; location: string };
  /** Bytes of error body to stream with a non-2xx answer (0: a short text). */
  errorBodyBytes: number;
  /** How many bytes of error body were actually written before the client went away. */
  errorBodyWritten: number;
  /** Shifts this station's clock (its Date header) by so many ms. */
  clockOffsetMs: number;
  /** Requests of any kind (HEAD included). */
  requests: string[];
  close(): Promise<void>;
}

export async function startStation(key = 'station-shared-key-9f2c'): Promise<FakeStation> {
  const station: FakeStation = {
    url: '',
    key,
    notices: [],
    badSignatures: 0,
    status: 200,
    delayMs: {},
    errorBodyBytes: 0,
    errorBodyWritten: 0,
    clockOffsetMs: 0,
    requests: [],
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    station.requests.push(req.method ?? '');
    res.sendDate = false;
    res.setHeader('date', new Date(Date.now() + station.clockOffsetMs).toUTCString());
    if (req.method === 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const timestamp = String(req.headers['x-panelctl-timestamp'] ?? '');
      const given = Buffer.from(String(req.headers['x-panelctl-signature'] ?? ''));
      const expected = Buffer.from(`sha256=${createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex')}`);
      const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
      if (given.length !== expected.length || !timingSafeEqual(given, expected) || !fresh) {
        station.badSignatures++;
        res.writeHead(401).end('bad signature');
        return;
      }
      if (station.redirect) {
        res.writeHead(station.redirect.status, { location: station.redirect.location }).end();
        return;
      }
      if (station.status >= 200 && station.status < 300) {
        station.notices.push(JSON.parse(body));
        station.onNotice?.(station.notices.at(-1)!);
      }
      if (station.status >= 300 && station.errorBodyBytes > 0) {
        streamErrorBody(res, station);
        return;
      }
      const answer = () => res.writeHead(station.status, { 'content-type': 'text/plain' }).end(station.status < 300 ? 'ok' : 'station database unavailable');
      const delay = station.delayMs[JSON.parse(body).event as 'test.start'];
      if (delay) setTimeout(answer, delay);
      else answer();
    });
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  station.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/panelctl/notices`;
  station.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return station;
}

/** Writes a huge error body in 64 KiB chunks while the client keeps reading; counts what went out. */
function streamErrorBody(res: http.ServerResponse, station: FakeStation): void {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  res.writeHead(station.status, { 'content-type': 'text/plain' });
  const write = () => {
    while (station.errorBodyWritten < station.errorBodyBytes) {
      station.errorBodyWritten += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', write);
    }
    res.end();
  };
  res.on('close', () => undefined);
  write();
}
