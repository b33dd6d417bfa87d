import type { HttpRequest, HttpResponse, HttpSend } from '../../../drivers/map5000/client.js';
import { MapModel, type SimFaults, type SimSettings, newState } from '../../../drivers/map5000/sim-model.js';
import type { Clock } from '../../../drivers/map5000/pacing.js';

export const SETTINGS: SimSettings = {
  username: 'panelctl-test',
  password: 'Test-Pass-42!',
  realm: 'MAP5000',
  licence: true,
  minIntervalMs: 1000,
  tamperAttempts: 3,
  tamperLockoutMs: 60_000,
  encryptedSecrets: false,
};

/** A clock the pacer and the model share: sleeping moves time, nothing waits for real. */
export function fakeClock(): Clock & { t: number } {
  const clock = {
    t: 1_000_000,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.t += ms;
    },
  };
  return clock;
}

/** The simulator model behind an in-memory HttpSend, on the fake clock (each answer takes 5 ms). */
export function modelLink(settings: Partial<SimSettings> = {}, faults: Partial<SimFaults> = {}, users = 3) {
  const clock = fakeClock();
  const model = new MapModel(newState(users), { ...SETTINGS, ...settings }, { busyReplies: 0, lockedOut: false, ...faults });
  const sent: HttpRequest[] = [];
  const send: HttpSend = async (request) => {
    sent.push(request);
    const answer = model.handle({ ...request, body: request.body ?? '', remote: '127.0.0.1' }, clock.t);
    clock.t += 5;
    model.answered(clock.t);
    return answer as HttpResponse;
  };
  return { clock, model, sent, send };
}
