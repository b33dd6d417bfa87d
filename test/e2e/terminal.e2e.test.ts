import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator } from '../../drivers/integra/simulator.js';
import { serveTcp, type TcpServerHandle } from '../../src/transport/tcp.js';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { KEY, TtySession } from '../support/tty.js';

/**
 * Plain commands on a terminal: the spinner shows what is happening, and Ctrl-C while a slow
 * panel is being asked ends the command at once rather than when the panel's timeout runs out.
 */

let sim: Awaited<ReturnType<typeof createSimulator>>;
let server: TcpServerHandle;
let sandbox: Sandbox;

beforeAll(async () => {
  sim = await createSimulator({ users: 2, options: { latencyMs: 20_000 } });
  server = await serveTcp('127.0.0.1', 0, (stream) => sim.accept(stream));
  sandbox = await makeSandbox();
  await sandbox.writeInventory(`panels:\n  slow:\n    driver: integra\n    link: tcp://127.0.0.1:${server.port}\n    secret: env:SLOW_CODE\n`);
});

afterAll(async () => {
  await server.close();
  await sim.close();
  await sandbox.cleanup();
});

describe('a command on a terminal', () => {
  it('shows a spinner while it waits for the panel, and Ctrl-C ends it at once', async () => {
    const t = new TtySession(['users', 'list', '--panel', 'slow', '--timeout', '30s'], { ...sandbox.env, SLOW_CODE: '1111' });
    try {
      await t.expect(/talking to slow|reading the users of slow/);
      const pressed = Date.now();
      t.send(KEY.ctrlC);
      const exit = await t.exit(5000);
      expect(Date.now() - pressed).toBeLessThan(5000);
      expect(exit.exitCode).toBe(130);
      expect(t.text).toMatch(/interrupted: leaving the panel cleanly/);
      expect(t.text).toMatch(/interrupted \(SIGINT\) while talking to the panel/);
    } finally {
      t.kill();
    }
  });
});
