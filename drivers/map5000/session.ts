import {
  type CodeChecker,
  type DriverInfo,
  type ListProgress,
  type NewUser,
  type PanelInfo,
  PanelRefusedError,
  type PanelSession,
  ProtocolError,
  type Secret,
  type TestModeControl,
  type TestState,
  type UserReader,
  type UserSlot,
  type UserWriter,
  VerificationError,
  capabilitiesOf,
} from '../../src/driver-kit/index.js';
import { type MapClient, parseAnswer } from './client.js';
import type { MapOptions } from './options.js';
import type { Pacer } from './pacing.js';
import { FIRST_USER_ID, LAST_USER_ID, PATHS, formatUserId, isUserId, userModelPath } from './paths.js';
import {
  type UserModelAnswer,
  areasAnswer,
  descAnswer,
  syncIdAnswer,
  syncStatusAnswer,
  userModelAnswer,
  usersAnswer,
  walktestStartedAnswer,
  walktestsAnswer,
} from './schemas.js';
import { SyncIdTracker, createBody, deleteBody, modifyPasscodeBody, passcodeReadBack, slotFromList, slotFromModel } from './usermodel.js';

/**
 * One MAP panel: users through GET /users and the user model (POST /usermodel with the sync id),
 * walk tests per area as test mode. Every request goes through MapClient (paced, digest, checked).
 */
export class MapSession implements PanelSession {
  readonly writer: UserWriter;
  readonly reader: UserReader;
  readonly codeChecker: CodeChecker;
  readonly testMode: TestModeControl;
  private readonly sync = new SyncIdTracker();
  /** The last record read per user id, and whether it was read after this session's last write to it. */
  private readonly records = new Map<number, { record: UserModelAnswer; fresh: boolean }>();
  /** The passcode field as it was before this session changed it, for an encrypted read-back. */
  private readonly passcodeBefore = new Map<number, string | undefined>();

  constructor(
    private readonly client: MapClient,
    private readonly info_: DriverInfo,
    private readonly options: MapOptions,
    private readonly pacer?: Pacer,
  ) {
    this.reader = { listUsers: (progress) => this.listUsers(progress), readUser: (slot) => this.readUser(slot) };
    this.writer = {
      createUser: (user) => this.createUser(user),
      changeCode: (slot, code) => this.changeCode(slot, code),
      deleteUser: (slot) => this.deleteUser(slot),
    };
    this.codeChecker = { verifyCode: (slot, code) => this.verifyCode(slot, code) };
    this.testMode = { start: () => this.startWalktest(), stop: () => this.stopWalktest(), status: () => this.walktestStatus() };
  }

  async info(): Promise<PanelInfo> {
    const desc = await this.client.json('GET', PATHS.desc, descAnswer, 'the panel description (GET /desc)');
    return {
      driver: 'map5000',
      model: desc.modelName,
      firmware: desc.firmwareVersion,
      slotRanges: this.info_.slotRanges,
      capabilities: capabilitiesOf(this.info_.facets),
      codeRules: this.info_.codeRules,
      details: { requests: this.client.requests },
    };
  }

  async close(): Promise<void> {
    this.records.clear();
    this.passcodeBefore.clear();
  }

  /** The wall-clock time of the last answer, for the next session on this panel (its pacing starts there). */
  lastContactAt(): number | undefined {
    const ago = this.pacer?.sinceLastAnswer();
    return ago === undefined ? undefined : Date.now() - ago;
  }

  /** When the overload back-off this session is in ends (wall clock), for the next session on this panel. */
  quietUntil(): number | undefined {
    const left = this.pacer?.heldFor();
    return left === undefined ? undefined : Date.now() + left;
  }

  private async listUsers(progress?: ListProgress): Promise<UserSlot[]> {
    const answer = await this.client.json('GET', PATHS.users, usersAnswer, 'the user list (GET /users)');
    const users = answer.list.map(slotFromList).sort((a, b) => a.slot - b.slot);
    if (new Set(users.map((u) => u.slot)).size !== users.length) throw new ProtocolError('the panel listed one user id twice in GET /users');
    progress?.(users.length, users.length);
    return users;
  }

  /** GET /usermodel/{id}: the record, or undefined for 404. Keeps the sync id it carries. */
  private async readRecord(slot: number): Promise<UserModelAnswer | undefined> {
    const path = userModelPath(slot);
    const what = `user ${formatUserId(slot)} (GET ${path})`;
    const answer = await this.client.exchange('GET', path, [200, 404], what);
    if (answer.status === 404) {
      this.records.delete(slot);
      return undefined;
    }
    const record = parseAnswer(answer.body, userModelAnswer, what) as UserModelAnswer;
    if (record.id !== formatUserId(slot)) throw new ProtocolError(`asked for user ${formatUserId(slot)}, the panel answered with user ${record.id}`);
    // Every field as read, for a MODIFY that must send them all.
    const full = { ...(JSON.parse(answer.body) as Record<string, unknown>), ...record } as UserModelAnswer;
    this.sync.observe(record.userModelSyncID);
    this.records.set(slot, { record: full, fresh: true });
    return full;
  }

  private async readUser(slot: number): Promise<UserSlot | undefined> {
    if (!isUserId(slot)) return undefined;
    // A record this session read after its last write to that user is the panel's current one (a
    // change by someone else since would make the next write's sync id stale): one request less per
    // step, each costing a second of pacing. After a write, the first read always asks the panel.
    const cached = this.records.get(slot);
    const record = cached?.fresh ? cached.record : await this.readRecord(slot);
    return record ? slotFromModel(record) : undefined;
  }

  private async currentSyncId(): Promise<number> {
    if (this.sync.value === undefined) {
      const status = await this.client.json('GET', PATHS.syncStatus, syncStatusAnswer, 'the user table sync id (GET /syncstatus)');
      this.sync.observe(status.userModelSyncID);
    }
    return this.sync.forPost();
  }

  /** POST /usermodel and the new sync id it must carry. */
  private async post(body: Record<string, unknown>, what: string): Promise<void> {
    const sent = body.userModelSyncID as number;
    const answer = await this.client.json('POST', PATHS.userModel, syncIdAnswer, what, body, [201]);
    this.sync.accept(sent, answer.userModelSyncID);
    const slot = Number(body.id);
    const cached = this.records.get(slot);
    if (cached) cached.fresh = false;
  }

  private async nextFreeSlot(): Promise<number> {
    const taken = new Set((await this.listUsers()).map((u) => u.slot));
    for (let slot = FIRST_USER_ID; slot <= LAST_USER_ID; slot++) if (!taken.has(slot)) return slot;
    throw new PanelRefusedError('E_FULL', `every user id ${FIRST_USER_ID}..${LAST_USER_ID} is in use`);
  }

  private async createUser(user: NewUser): Promise<UserSlot> {
    const slot = user.slot ?? (await this.nextFreeSlot());
    const syncId = await this.currentSyncId();
    const body = createBody(
      { slot, name: user.name, passcode: user.code, userType: this.options.userType, accessModel: this.options.accessModel, language: this.options.language },
      syncId,
    );
    await this.post(body, `the new user ${formatUserId(slot)} (POST /usermodel CREATE)`);
    this.passcodeBefore.set(slot, undefined);
    return { slot, kind: this.options.userType.startsWith('Installer') ? 'installer' : 'user', name: user.name, type: this.options.userType, hasCode: true };
  }

  /** The record to modify: the one read in this session if nothing was written since, else read now. */
  private async recordForWrite(slot: number): Promise<UserModelAnswer> {
    const cached = this.records.get(slot);
    const record = cached?.fresh ? cached.record : await this.readRecord(slot);
    if (!record) throw new PanelRefusedError('E_NO_SUCH_USER', `there is no user ${formatUserId(slot)} on the panel`, { data: { slot } });
    return record;
  }

  private async changeCode(slot: number, code: Secret): Promise<void> {
    const record = await this.recordForWrite(slot);
    const syncId = await this.currentSyncId();
    await this.post(modifyPasscodeBody(record, code, syncId), `the new code of user ${formatUserId(slot)} (POST /usermodel MODIFY)`);
    this.passcodeBefore.set(slot, record.passcode);
  }

  private async deleteUser(slot: number): Promise<void> {
    await this.recordForWrite(slot);
    const syncId = await this.currentSyncId();
    await this.post(deleteBody(slot, syncId), `the removal of user ${formatUserId(slot)} (POST /usermodel DELETE)`);
  }

  /**
   * code-check when the panel returns the passcode in plain text (no shared key). When it comes back
   * encrypted, which code it is cannot be read: false (the operations then prove by read-back), but
   * an encrypted passcode that did not change across this session's change is refused.
   */
  private async verifyCode(slot: number, code: Secret): Promise<boolean> {
    const cached = this.records.get(slot);
    const record = cached?.fresh ? cached.record : await this.readRecord(slot);
    if (!record) throw new VerificationError(`user ${formatUserId(slot)} reads back empty after the change`);
    const seen = passcodeReadBack(record, code);
    if (seen === 'match') return true;
    if (seen === 'differs') throw new VerificationError(`user ${formatUserId(slot)} reads back with another passcode than the one sent`);
    const before = this.passcodeBefore.get(slot);
    if (before !== undefined && record.passcode === before) {
      throw new VerificationError(`user ${formatUserId(slot)}'s encrypted passcode reads back unchanged after the change`);
    }
    return false;
  }

  // Walk tests: POST /{area} STARTWALKTEST per area, GET /walktests, DELETE /walktest/{id}.

  private async walktestAreas(): Promise<string[]> {
    if (this.options.areas) return this.options.areas.split(',').map((area) => area.trim());
    const answer = await this.client.json('GET', PATHS.areas, areasAnswer, 'the area list (GET /areas)');
    if (answer.list.length === 0) throw new PanelRefusedError('E_NO_AREAS', 'the panel lists no areas to walk test');
    return answer.list.map((area) => area['@self']);
  }

  private async runningFor(areas: string[]): Promise<string[]> {
    const answer = await this.client.json('GET', PATHS.walktests, walktestsAnswer, 'the running walk tests (GET /walktests)');
    return answer.list.filter((test) => test.wt.some((entry) => areas.includes(entry.area))).map((test) => test['@self']);
  }

  private async startWalktest(): Promise<TestState> {
    const areas = await this.walktestAreas();
    const started: string[] = [];
    for (const area of areas) {
      const what = `a walk test in area ${area} (POST ${area} STARTWALKTEST)`;
      let answer: { status: number; body: string };
      try {
        answer = await this.client.exchange('POST', area, [200, 409], what, { '@cmd': 'STARTWALKTEST', includedPoints: 'ALL' });
      } catch (error) {
        await this.undo(started);
        throw error;
      }
      if (answer.status === 409) {
        await this.undo(started);
        throw new PanelRefusedError('E_TEST_RUNNING', `a walk test is already running in area ${area}; panelctl started none`, {
          hint: 'stop it first (`test-mode stop`), or wait for whoever started it; the panel allows one walk test per area',
          data: { area },
        });
      }
      started.push(parseAnswer(answer.body, walktestStartedAnswer, what).walktest);
    }
    return { active: true, mode: `walk test (${areas.length} area${areas.length === 1 ? '' : 's'})` };
  }

  /** Stops walk tests this start began, when a later area failed: no test is left on unseen. */
  private async undo(started: string[]): Promise<void> {
    for (const link of started) await this.client.exchange('DELETE', link, [202, 404], `the walk test ${link} (DELETE)`).catch(() => undefined);
  }

  private async stopWalktest(): Promise<TestState> {
    const areas = await this.walktestAreas();
    for (const link of await this.runningFor(areas)) await this.client.exchange('DELETE', link, [202, 404], `the walk test ${link} (DELETE)`);
    const left = await this.runningFor(areas);
    if (left.length) throw new ProtocolError(`the panel accepted the stop but still lists walk test ${left.join(', ')}`);
    return { active: false, mode: 'walk test' };
  }

  private async walktestStatus(): Promise<TestState> {
    const running = await this.runningFor(await this.walktestAreas());
    return { active: running.length > 0, mode: 'walk test' };
  }
}
