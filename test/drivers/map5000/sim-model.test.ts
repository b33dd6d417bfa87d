import { describe, expect, it } from 'vitest';
import { Secret } from '../../../src/driver-kit/index.js';
import { MapClient } from '../../../drivers/map5000/client.js';
import { Pacer } from '../../../drivers/map5000/pacing.js';
import { areasAnswer, syncIdAnswer, syncStatusAnswer, userModelAnswer, walktestStartedAnswer, walktestsAnswer } from '../../../drivers/map5000/schemas.js';
import type { SimFaults, SimSettings } from '../../../drivers/map5000/sim-model.js';
import { SETTINGS, modelLink } from './support.js';

function setup(settings: Partial<SimSettings> = {}, faults: Partial<SimFaults> = {}) {
  const link = modelLink(settings, faults);
  const client = new MapClient({ send: link.send, pacer: new Pacer(1000, link.clock), username: SETTINGS.username, password: new Secret(SETTINGS.password) });
  return { ...link, client };
}

const create = (id: string, syncId: number, extra: Record<string, unknown> = {}) => ({
  '@cmd': 'CREATE',
  id,
  userType: 'User:Standard',
  firstName: 'Jan',
  lastName: 'Jansen',
  passcode: '888888',
  accessModel: 'Basic Profile',
  userModelSyncID: syncId,
  ...extra,
});

describe('simulated MAP user model', () => {
  it('a POST with the current sync id is applied and answers the next one; a stale one is 409 SyncError and changes nothing', async () => {
    const { client, model } = setup();
    const { userModelSyncID } = await client.json('GET', '/syncstatus', syncStatusAnswer, 's');
    const answer = await client.json('POST', '/usermodel', syncIdAnswer, 'c', create('040', userModelSyncID), [201]);
    expect(answer.userModelSyncID).toBe(userModelSyncID + 1);
    await expect(client.json('POST', '/usermodel', syncIdAnswer, 'c', create('041', userModelSyncID), [201])).rejects.toMatchObject({ code: 'E_CONFLICT' });
    expect(model.state.users['041']).toBeUndefined();
    const record = await client.json('GET', '/usermodel/040', userModelAnswer, 'r');
    expect(record).toMatchObject({ id: '040', firstName: 'Jan', passcode: '888888', userModelSyncID: userModelSyncID + 1 });
  });

  it('refuses an id in use, a missing field on modify, a passcode that is not 6 digits, an unknown access model', async () => {
    const { client } = setup();
    let sync = (await client.json('GET', '/syncstatus', syncStatusAnswer, 's')).userModelSyncID;
    await expect(client.exchange('POST', '/usermodel', [201], 'c', create('005', sync))).rejects.toMatchObject({ code: 'E_SLOT_TAKEN' });
    await expect(client.exchange('POST', '/usermodel', [201], 'c', { ...create('005', sync), '@cmd': 'MODIFY' })).rejects.toMatchObject({
      code: 'E_BAD_VALUE',
    });
    await expect(client.exchange('POST', '/usermodel', [201], 'c', create('050', sync, { passcode: '12345' }))).rejects.toThrow(/passcode/);
    await expect(client.exchange('POST', '/usermodel', [201], 'c', create('050', sync, { accessModel: 'Nope' }))).rejects.toThrow(/accessModel/);
    sync = (await client.json('POST', '/usermodel', syncIdAnswer, 'd', { '@cmd': 'DELETE', id: '005', userModelSyncID: sync }, [201])).userModelSyncID;
    expect((await client.exchange('GET', '/usermodel/005', [404], 'r')).status).toBe(404);
  });

  it('without the MUM licence the user model answers 403 "License missing MUM/usermodel" (exit 6)', async () => {
    const { client } = setup({ licence: false });
    await expect(client.exchange('POST', '/usermodel', [201], 'the user change', create('040', 100))).rejects.toMatchObject({
      exitCode: 6,
      message: expect.stringContaining('License missing MUM/usermodel'),
    });
    // /users needs no licence.
    await expect(client.exchange('GET', '/users', [200], 'u')).resolves.toMatchObject({ status: 200 });
  });

  it('encrypted secrets: the passcode comes back as a hash, with encryptedSecrets true', async () => {
    const { client } = setup({ encryptedSecrets: true });
    const record = await client.json('GET', '/usermodel/005', userModelAnswer, 'r');
    expect(record.encryptedSecrets).toBe(true);
    expect(record.passcode).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('simulated MAP walk tests', () => {
  it('starts per area, lists, refuses a second start with 409 plain text, stops by DELETE', async () => {
    const { client, model } = setup();
    const areas = await client.json('GET', '/areas', areasAnswer, 'a');
    const area = areas.list[0]['@self'];
    const started = await client.json('POST', area, walktestStartedAnswer, 'start', { '@cmd': 'STARTWALKTEST', includedPoints: 'ALL' });
    const second = await client.exchange('POST', area, [200, 409], 'start', { '@cmd': 'STARTWALKTEST', includedPoints: 'ALL' });
    expect(second.status).toBe(409);
    expect(() => JSON.parse(second.body)).toThrow();
    const list = await client.json('GET', '/walktests', walktestsAnswer, 'l');
    expect(list.list.map((w) => w['@self'])).toEqual([started.walktest]);
    expect((await client.exchange('DELETE', started.walktest, [202], 'stop')).status).toBe(202);
    expect(Object.keys(model.state.walktests)).toEqual([]);
  });
});
