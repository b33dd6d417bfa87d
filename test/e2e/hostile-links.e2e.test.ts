import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../drivers/integra/codec.js';
import { makeSandbox, type CliResult, type Sandbox } from '../support/cli.js';
import { haveSocat } from '../support/pty-pair.js';
import { makeEchoPty, startEchoServer, startFloodServer, type HostileServer } from '../support/hostile.js';

/**
 * The real binary on hostile links (issue 14): a line that echoes what panelctl sends (loopback
 * plug, echoing converter) and a peer that floods valid frames that answer nothing. An echo is a
 * protocol error (exit 5) with a hint, nothing is made up from panelctl's own requests, and the
 * credential shows nowhere; a flood ends fast with exit 5, not after the timeout with the memory gone.
 */

/** A long credential whose digits, BCD bytes or byte values would stand out anywhere in the output. */
const MASTER = '73918264';
/** What a leak of MASTER could look like: digits, BCD hex bytes (any spacing), the bytes as numbers. */
function leaks(text: string): string[] {
  const found: string[] = [];
  if (text.includes(MASTER)) found.push('digits');
  if (/73\W?91\W?82\W?64/i.test(text)) found.push('BCD hex');
  if (/\b115\b/.test(text) && /\b145\b/.test(text)) found.push('BCD bytes as numbers'); // 0x73, 0x91
  return found;
}

let sandbox: Sandbox;
let echo: HostileServer;

beforeAll(async () => {
  sandbox = await makeSandbox();
  echo = await startEchoServer();
});

afterAll(async () => {
  await echo.close();
  await sandbox.cleanup();
});

function run(args: string[]): Promise<CliResult> {
  return sandbox.run(args, { env: { LAB_CODE: MASTER } });
}

function adHoc(driver: string, link: string, extra: string[] = []): string[] {
  return ['--link', link, '--driver', driver, '--secret-from', 'env:LAB_CODE', ...extra];
}

function expectEchoRefused(result: CliResult): void {
  expect(result.code, result.stdout + result.stderr).toBe(5);
  expect(result.stderr).toMatch(/echo/i);
  expect(result.stdout).not.toMatch(/SLOT|"users"|type undefined/);
  expect(leaks(result.stdout + result.stderr)).toEqual([]);
}

describe('INTEGRA on an echoing TCP link', () => {
  for (const command of [['users', 'list'], ['info']]) {
    for (const debug of [false, true]) {
      it(`${command.join(' ')}${debug ? ' --debug' : ''}: exit 5 with an echo hint, nothing made up, the code nowhere`, async () => {
        const result = await run([...(debug ? ['--debug'] : []), ...command, ...adHoc('integra', `tcp://127.0.0.1:${echo.port}`)]);
        expectEchoRefused(result);
      });
    }
  }
});

describe.skipIf(!haveSocat)('INTEGRA on a serial line that echoes (a pty in echo mode)', () => {
  let pty: Awaited<ReturnType<typeof makeEchoPty>>;
  beforeAll(async () => {
    pty = await makeEchoPty();
  });
  afterAll(async () => {
    await pty?.close();
  });

  for (const command of [['users', 'list'], ['info']]) {
    it(`${command.join(' ')} --debug: exit 5 with an echo hint, nothing made up, the code nowhere`, async () => {
      const result = await run(['--debug', ...command, ...adHoc('integra', `serial://${pty.path}?baud=19200`)]);
      expectEchoRefused(result);
    });
  }
});

describe('INTEGRA flooded with valid frames that answer nothing', () => {
  let flood: HostileServer;
  beforeAll(async () => {
    // 0x7F "new data" answers: well-formed, right CRC, never the answer to 0x7E or 0xE0.
    flood = await startFloodServer(encodeFrame(0x7f, [0, 0, 0, 0, 0]));
  });
  afterAll(async () => {
    await flood?.close();
  });

  it('info: a protocol error (exit 5) naming the flood, well before the timeout would end it', async () => {
    const result = await run(['--timeout', '20s', 'info', ...adHoc('integra', `tcp://127.0.0.1:${flood.port}`)]);
    expect(result.code, result.stderr).toBe(5);
    expect(result.stderr).toMatch(/flood|unasked|nobody asked/i);
  });
});
