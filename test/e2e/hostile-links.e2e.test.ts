import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../drivers/integra/codec.js';
import { encodeMessage } from '../../drivers/dsc/codec.js';
import { encodeMbap } from '../../drivers/modbus/mbap.js';
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

/** A 6-digit DSC master code (DSC codes are 4 or 6 digits). */
const DSC_MASTER = '739182';

function runDsc(args: string[]): Promise<CliResult> {
  return sandbox.run(args, { env: { LAB_CODE: DSC_MASTER } });
}

function expectNoDscCode(result: CliResult): void {
  expect(result.stdout + result.stderr).not.toContain(DSC_MASTER);
}

describe('DSC (IT-100) on an echoing link', () => {
  for (const command of [['users', 'list'], ['info']]) {
    it(`${command.join(' ')} --debug over TCP (IT-100 behind a converter): exit 5 with an echo hint, the code nowhere`, async () => {
      const result = await runDsc(['--debug', ...command, ...adHoc('dsc', `tcp://127.0.0.1:${echo.port}`, ['--option', 'module=it100'])]);
      expect(result.code, result.stdout + result.stderr).toBe(5);
      expect(result.stderr).toMatch(/echo/i);
      expectNoDscCode(result);
    });
  }

  it.skipIf(!haveSocat)('users list --debug on a serial line that echoes: exit 5, the code nowhere', async () => {
    const pty = await makeEchoPty();
    try {
      const result = await runDsc(['--debug', 'users', 'list', ...adHoc('dsc', `serial://${pty.path}?baud=9600`)]);
      expect(result.code, result.stdout + result.stderr).toBe(5);
      expect(result.stderr).toMatch(/echo/i);
      expectNoDscCode(result);
    } finally {
      await pty.close();
    }
  });
});

describe('Modbus on an echoing link', () => {
  for (const command of [['users', 'list'], ['info']]) {
    it(`${command.join(' ')} --debug over Modbus TCP: exit 5 with an echo hint, nothing made up`, async () => {
      const result = await run(['--debug', ...command, '--link', `tcp://127.0.0.1:${echo.port}`, '--driver', 'modbus', '--option', 'profile=demo-modbus']);
      expect(result.code, result.stdout + result.stderr).toBe(5);
      expect(result.stderr).toMatch(/echo/i);
      expect(result.stdout).not.toMatch(/SLOT|"users"/);
    });
  }

  it.skipIf(!haveSocat)('RTU on a serial loopback (echo, no device): the echo is skipped, no device answered (exit 4, says so)', async () => {
    const pty = await makeEchoPty();
    try {
      const result = await run([
        '--timeout',
        '1s',
        'info',
        '--link',
        `serial://${pty.path}?baud=9600&parity=even`,
        '--driver',
        'modbus',
        '--option',
        'profile=demo-modbus',
      ]);
      expect(result.code, result.stdout + result.stderr).toBe(4);
      expect(result.stderr).toMatch(/echoed the request/);
    } finally {
      await pty.close();
    }
  });
});

describe('DSC and Modbus flooded with valid messages that answer nothing', () => {
  const floods: HostileServer[] = [];
  afterAll(async () => {
    for (const flood of floods) await flood.close();
  });

  it('DSC (IT-100): exit 5 naming the flood', async () => {
    const flood = await startFloodServer(encodeMessage('510', '81'));
    floods.push(flood);
    const result = await runDsc(['--timeout', '20s', 'users', 'list', ...adHoc('dsc', `tcp://127.0.0.1:${flood.port}`, ['--option', 'module=it100'])]);
    expect(result.code, result.stderr).toBe(5);
    expect(result.stderr).toMatch(/flood/i);
  });

  it('Modbus TCP: exit 5 naming the flood', async () => {
    const flood = await startFloodServer(encodeMbap(0xbeef, 1, Buffer.from([3, 2, 0, 0])));
    floods.push(flood);
    const result = await run(['--timeout', '20s', 'info', '--link', `tcp://127.0.0.1:${flood.port}`, '--driver', 'modbus', '--option', 'profile=demo-modbus']);
    expect(result.code, result.stderr).toBe(5);
    expect(result.stderr).toMatch(/flood/i);
  });
});

describe('Modbus --debug never shows a code (issue 14 item 3): function-6 writes, late replies', () => {
  let sim: Awaited<ReturnType<typeof import('../../drivers/modbus/simulator.js')['createSimulator']>>;
  let server: { port: number; close(): Promise<void> };
  let profile: string;
  const SLOT = 3;

  beforeAll(async () => {
    const fs = await import('node:fs/promises');
    const path = await import('node:path');
    const { parse } = await import('yaml');
    const { shippedProfilesDir } = await import('../../drivers/modbus/profile.js');
    const data = parse(await fs.readFile(path.join(shippedProfilesDir(), 'demo-modbus.yaml'), 'utf8'));
    data.limits.writeMultiple = false; // every register by function 6, whose reply echoes the value
    profile = path.join(sandbox.dir, 'single-writes.json');
    await fs.writeFile(profile, JSON.stringify(data));
    const { createSimulator } = await import('../../drivers/modbus/simulator.js');
    sim = await createSimulator({ users: 5, options: { profile } });
    server = await sim.listenTcp('127.0.0.1', 0);
  });
  afterAll(async () => {
    await server?.close();
    await sim?.close();
  });

  /** Every way a 6-digit BCD code in two registers could show: digits, register bytes in hex, register values in decimal. */
  function leaks(text: string, digits: string): string[] {
    const nibbles = digits.padEnd(8, 'f').toLowerCase();
    const registers = [nibbles.slice(0, 4), nibbles.slice(4)];
    const forms = [
      digits,
      ...registers.map((r) => `${r.slice(0, 2)} ${r.slice(2)}`),
      ...registers.map((r) => r),
      ...registers.map((r) => String(parseInt(r, 16))),
    ];
    return forms.filter((form) => text.toLowerCase().includes(form));
  }

  /** `set-code --debug` of SLOT to `code` (from stdin) on the Modbus panel at `port`, with the function-6 profile. */
  const setCodeWithDebug = (port: number, code: string, options: string[] = []) =>
    sandbox.run(
      [
        '--debug',
        ...options,
        'users',
        'set-code',
        '--slot',
        String(SLOT),
        '--code-stdin',
        '--link',
        `tcp://127.0.0.1:${port}`,
        '--driver',
        'modbus',
        '--option',
        `profile=${profile}`,
      ],
      { input: `${code}\n` },
    );

  it('set-code --debug with function-6 writes: the [rx] echo replies are masked', async () => {
    const result = await setCodeWithDebug(server.port, '583016');
    expect(result.code, result.stderr).toBe(0);
    expect(sim.user(SLOT)?.code).toBe('583016');
    expect(result.stderr).toMatch(/\[rx\].* 06 /);
    expect(leaks(result.stdout + result.stderr, '583016')).toEqual([]);
  });

  it('a reply that arrives after its request timed out is masked too', async () => {
    const { startLateReplyProxy } = await import('../support/hostile.js');
    const { slotAddress } = await import('../../drivers/modbus/layout.js');
    const codeAt = slotAddress(sim.profile.users, SLOT) + sim.profile.users.code.offset;
    const touchesCode = (request: Buffer) => {
      const fc = request[7];
      const address = request.readUInt16BE(8);
      const count = fc === 6 ? 1 : request.readUInt16BE(10);
      return (fc === 3 || fc === 6) && address <= codeAt + 1 && address + count > codeAt;
    };
    const proxy = await startLateReplyProxy(server.port, touchesCode);
    try {
      const result = await setCodeWithDebug(proxy.port, '719350', ['--timeout', '1s']);
      expect(proxy.late, result.stderr).toBeGreaterThanOrEqual(1);
      expect(leaks(result.stdout + result.stderr, '719350')).toEqual([]);
      expect(leaks(result.stdout + result.stderr, '583016')).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});
