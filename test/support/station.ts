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
  close(): Promise<void>;
}

export async function startStation(key = 'station-shared-key-9f2c'): Promise<FakeStation> {
  const station: FakeStation = { url: '', key, notices: [], badSignatures: 0, status: 200, close: async () => undefined };
  const server = http.createServer((req, res) => {
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
      if (station.status >= 200 && station.status < 300) {
        station.notices.push(JSON.parse(body));
        station.onNotice?.(station.notices.at(-1)!);
      }
      res.writeHead(station.status, { 'content-type': 'text/plain' }).end(station.status < 300 ? 'ok' : 'station database unavailable');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  station.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/panelctl/notices`;
  station.close = () => new Promise((resolve) => server.close(() => resolve()));
  return station;
}
