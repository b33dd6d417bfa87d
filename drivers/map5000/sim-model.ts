import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type DigestAlgorithm, type DigestChallenge, digestResponse, parseAuthorization } from './digest.js';
import { MAX_REQUEST_BYTES } from './limits.js';
import { formatUserId, isAreaPath, isWalktestPath, parseUserId } from './paths.js';
import { USER_TYPES } from './schemas.js';

/**
 * The simulated MAP 5000: its REST API as the description specifies it, as a pure function of
 * (state, request, time) so it is tested without sockets (simulator.ts serves it over HTTPS).
 * What it models: digest authentication (SHA-256 and MD5 challenges, nonce counts, stale nonces),
 * the user passcode tamper lockout (401 to every request from the address, no challenge), the
 * pacing rule (a request sooner than the interval after the last answer is refused with 503, as
 * an overloaded panel answers), the MUM licence (403 "License missing MUM/usermodel"), the
 * userModelSyncID rule (409 SyncError), AlreadyExists, walk tests per area (409 plain text on a
 * second start) and a fault knob for 503.
 */

export interface SimUser {
  userType: string;
  firstName: string;
  lastName: string;
  passcode: string;
  accessModel: string;
  active: boolean;
  language: string;
  passcodeChngRqd: boolean;
  isOiiUser: boolean;
  isOiiUserKpUser: boolean;
  useExtendedDelay: boolean;
  duressOffset: number;
}

export interface SimWalktest {
  areas: string[];
  user: string;
}

export interface SimState {
  format: 'panelctl-map5000-sim/1';
  userModelSyncID: number;
  /** By three-digit id. */
  users: Record<string, SimUser>;
  areas: string[];
  /** By walk test id (32 hex digits). */
  walktests: Record<string, SimWalktest>;
}

export interface SimSettings {
  /** The REST-API user and password (oiiUsername / oiiPassword of a user with isOiiUser). */
  username: string;
  password: string;
  realm: string;
  /** MUM licence present (else 403 on the user model). */
  licence: boolean;
  /** Least time between the end of one answer and the next request (the description's 1 s). */
  minIntervalMs: number;
  /** Wrong digests from one address before the tamper lockout. */
  tamperAttempts: number;
  tamperLockoutMs: number;
  /** Passcodes come back encrypted in GET (a shared key is set). */
  encryptedSecrets: boolean;
}

export interface SimFaults {
  /** Answer the next N requests with 503. */
  busyReplies: number;
  /** Start with the tamper lockout active for every address. */
  lockedOut: boolean;
}

export interface SimRequest {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  body: string;
  remote: string;
}

export interface SimResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
}

export const ACCESS_MODELS = ['Basic Profile', 'Installer Profile', 'Owner/Facility Manager Profile'];
const LANGUAGES = ['en-US', 'de-DE', 'fr-FR', 'nl-NL', 'hu-HU', 'pl-PL', 'it-IT', 'ru-RU', 'es-ES', 'cs-CZ', 'pt-PT', 'lv-LV', 'ro-RO', 'lt-LT', 'uk-UK'];

const json = (status: number, value: unknown): SimResponse => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
const text = (status: number, value: string): SimResponse => ({ status, headers: { 'content-type': 'text/plain' }, body: value });
const empty = (status: number): SimResponse => ({ status, headers: {}, body: '' });

export function newState(userCount: number, areaCount = 2): SimState {
  const state: SimState = { format: 'panelctl-map5000-sim/1', userModelSyncID: 100, users: {}, areas: [], walktests: {} };
  for (let i = 1; i <= areaCount; i++) state.areas.push(`/1.1.Area.2.${i}`);
  const first = ['Anna', 'Lars', 'Ingrid', 'Piotr', 'Marta', 'Jonas', 'Olga', 'Erik', 'Zofia', 'Nils', 'Kari', 'Tomasz'];
  for (let i = 0; i < userCount; i++) {
    const slot = 5 + i;
    state.users[formatUserId(slot)] = defaultUser(first[i % first.length], `User ${slot}`, String(100000 + slot * 7919).slice(-6));
  }
  return state;
}

function defaultUser(firstName: string, lastName: string, passcode: string): SimUser {
  return {
    userType: 'User:Standard',
    firstName,
    lastName,
    passcode,
    accessModel: 'Basic Profile',
    active: true,
    language: 'en-US',
    passcodeChngRqd: false,
    isOiiUser: false,
    isOiiUserKpUser: false,
    useExtendedDelay: false,
    duressOffset: 1,
  };
}

interface Nonce {
  lastNc: number;
}

export class MapModel {
  private nonces = new Map<string, Nonce>();
  private failures = new Map<string, number>();
  private lockedUntil = new Map<string, number>();
  private lastAnswerAt: number | undefined;
  private inFlight = false;
  /** Every request seen, for tests and measurements: method, path, status, time. */
  readonly log: Array<{ method: string; path: string; status: number; at: number }> = [];

  constructor(
    readonly state: SimState,
    readonly settings: SimSettings,
    readonly faults: SimFaults,
    private readonly onChange: () => void = () => {},
  ) {}

  /** A request has arrived at `now` (ms). The caller calls answered(now) when the answer has been sent. */
  handle(request: SimRequest, now: number): SimResponse {
    const response = this.route(request, now);
    this.log.push({ method: request.method, path: request.path, status: response.status, at: now });
    return response;
  }

  /**
   * When a new client may ask without being answered 503 (the clock of handle and answered): the last answer plus the interval. Each panelctl process
   * paces its own requests only; tests that start one process after another wait for this first.
   */
  quietAt(): number {
    return (this.lastAnswerAt ?? 0) + this.settings.minIntervalMs;
  }

  /** The answer has left: the pacing interval counts from here (README: "between the last response and the next request"). */
  answered(now: number): void {
    this.inFlight = false;
    this.lastAnswerAt = now;
  }

  private route(request: SimRequest, now: number): SimResponse {
    // Overload: one request at a time, and at least minIntervalMs after the last answer.
    if (this.inFlight || (this.lastAnswerAt !== undefined && now - this.lastAnswerAt < this.settings.minIntervalMs)) {
      this.inFlight = true;
      return text(503, 'Service Unavailable');
    }
    this.inFlight = true;
    if (this.faults.busyReplies > 0) {
      this.faults.busyReplies--;
      return text(503, 'Service Unavailable');
    }
    // "During the lockout any request will return code 401 for attacking IP."
    if (this.faults.lockedOut || (this.lockedUntil.get(request.remote) ?? 0) > now) return text(401, 'Unauthorized');
    const auth = this.authenticate(request, now);
    if (auth) return auth;
    if (Buffer.byteLength(request.body) > MAX_REQUEST_BYTES) return empty(411);
    return this.dispatch(request);
  }

  private challenge(stale: boolean): SimResponse {
    const nonce = randomBytes(16).toString('hex');
    this.nonces.set(nonce, { lastNc: 0 });
    const opaque = createHash('sha256').update(this.settings.realm).digest('hex').slice(0, 16);
    const header = (algorithm: string) =>
      `Digest realm="${this.settings.realm}", qop="auth", algorithm=${algorithm}, nonce="${nonce}", opaque="${opaque}"${stale ? ', stale=true' : ''}`;
    return { status: 401, headers: { 'www-authenticate': [header('SHA-256'), header('MD5')], 'content-type': 'text/plain' }, body: 'Unauthorized' };
  }

  /** undefined when the request carries a valid digest for the configured user; else the 401 to send. */
  private authenticate(request: SimRequest, now: number): SimResponse | undefined {
    const params = parseAuthorization(request.headers.authorization);
    if (!params) return this.challenge(false);
    const nonceText = params.get('nonce') ?? '';
    const nonce = this.nonces.get(nonceText);
    const algorithm = (['SHA-256', 'MD5'] as DigestAlgorithm[]).find((a) => a === params.get('algorithm'));
    const ncText = params.get('nc') ?? '';
    const nc = /^[0-9a-f]{8}$/i.test(ncText) ? Number.parseInt(ncText, 16) : Number.NaN;
    const good =
      algorithm !== undefined &&
      params.get('username') === this.settings.username &&
      params.get('realm') === this.settings.realm &&
      params.get('uri') === request.path &&
      params.get('qop') === 'auth' &&
      nonce !== undefined &&
      nc > nonce.lastNc &&
      this.responseMatches(params, { realm: this.settings.realm, nonce: nonceText, algorithm, qop: 'auth', stale: false, userhash: false }, request, nc);
    if (good) {
      (nonce as Nonce).lastNc = nc;
      this.failures.delete(request.remote);
      return undefined;
    }
    // An unknown nonce with a correct response to it cannot be told from an old one: RFC 7616 stale=true.
    if (nonce === undefined && algorithm && params.get('username') === this.settings.username) {
      const fake: DigestChallenge = { realm: this.settings.realm, nonce: nonceText, algorithm, qop: 'auth', stale: false, userhash: false };
      if (this.responseMatches(params, fake, request, nc)) return this.challenge(true);
    }
    const failures = (this.failures.get(request.remote) ?? 0) + 1;
    this.failures.set(request.remote, failures);
    if (failures >= this.settings.tamperAttempts) {
      this.lockedUntil.set(request.remote, now + this.settings.tamperLockoutMs);
      this.failures.delete(request.remote);
    }
    return this.challenge(false);
  }

  private responseMatches(params: Map<string, string>, challenge: DigestChallenge, request: SimRequest, nc: number): boolean {
    const expected = digestResponse(challenge, {
      username: this.settings.username,
      password: this.settings.password,
      method: request.method,
      uri: request.path,
      nc,
      cnonce: params.get('cnonce') ?? '',
    });
    const given = Buffer.from(params.get('response') ?? '');
    return given.length === expected.length && timingSafeEqual(given, Buffer.from(expected));
  }

  private dispatch(request: SimRequest): SimResponse {
    const { method, path } = request;
    if (method === 'GET' && path === '/desc') {
      return json(200, {
        '@type': ['OII.desc.1'],
        '@self': '/desc',
        modelName: 'MAP5000',
        firmwareVersion: '1.4.0272',
        friendlyName: 'panelctl simulator',
        udn: '46658.1',
      });
    }
    if (method === 'GET' && path === '/users') return json(200, this.usersList());
    if (path === '/syncstatus' && method === 'GET') return json(200, { userModelSyncID: this.state.userModelSyncID });
    if (path === '/usermodel' || path.startsWith('/usermodel/') || path === '/usermodellist') {
      // README, License: "Missing license will lead to HTTP 403 plain-text response, for example "License missing MUM/usermodel""
      if (!this.settings.licence) return text(403, 'License missing MUM/usermodel');
      if (method === 'POST' && path === '/usermodel') return this.postUserModel(request.body);
      const id = path.startsWith('/usermodel/') ? path.slice('/usermodel/'.length) : undefined;
      if (method === 'GET' && id !== undefined) return this.getUserModel(id);
    }
    if (method === 'GET' && path === '/areas') {
      return json(200, {
        '@self': '/areas',
        list: this.state.areas.map((area) => ({ '@type': ['IN.area.1'], '@self': area, armed: false, walktest: this.walktestOf(area) ?? '' })),
      });
    }
    if (method === 'POST' && isAreaPath(path)) return this.postArea(path, request.body);
    if (method === 'GET' && path === '/walktests')
      return json(200, { '@self': '/walktests', list: Object.keys(this.state.walktests).map((id) => this.walktestView(id)) });
    if (isWalktestPath(path)) {
      const id = path.slice('/walktest/'.length).toUpperCase();
      if (!this.state.walktests[id]) return empty(404);
      if (method === 'GET') return json(200, this.walktestView(id));
      if (method === 'DELETE') {
        delete this.state.walktests[id];
        this.onChange();
        return empty(202);
      }
    }
    return empty(404);
  }

  private usersList(): unknown {
    return {
      '@type': ['IN.userList.1', 'OII.list.1'],
      '@self': '/users',
      list: Object.entries(this.state.users).map(([id, user]) => ({
        '@type': ['IN.user.1'],
        '@self': `/user/${id}`,
        active: user.active,
        id,
        usertype: user.userType,
        name: [user.firstName, user.lastName].filter(Boolean).join(' '),
        language: user.language,
        passcodeChngRqd: user.passcodeChngRqd,
        accessProfileName: user.accessModel,
        isOiiUser: user.isOiiUser,
        isOiiUserKpUser: user.isOiiUserKpUser,
      })),
    };
  }

  private getUserModel(idText: string): SimResponse {
    const user = parseUserId(idText) === undefined ? undefined : this.state.users[idText];
    if (!user) return empty(404);
    const passcode = this.settings.encryptedSecrets ? createHash('sha256').update(`${idText}:${user.passcode}`).digest('hex') : user.passcode;
    return json(200, { id: idText, ...user, passcode, encryptedSecrets: this.settings.encryptedSecrets, userModelSyncID: this.state.userModelSyncID });
  }

  private postUserModel(body: string): SimResponse {
    let request: Record<string, unknown>;
    try {
      request = JSON.parse(body);
      if (typeof request !== 'object' || request === null || Array.isArray(request)) throw new Error('not an object');
    } catch {
      return json(400, { code: 'BadValue', message: 'Error caused by: body', target: '@cmd' });
    }
    const cmd = request['@cmd'];
    if (cmd !== 'CREATE' && cmd !== 'MODIFY' && cmd !== 'DELETE')
      return json(400, { code: 'BadValue', message: `Error caused by: ${String(cmd)}`, target: '@cmd' });
    const sync = request.userModelSyncID;
    if (typeof sync !== 'number') return json(400, { code: 'MissingArgument', message: 'Error caused by: ', target: 'userModelSyncID' });
    if (sync !== this.state.userModelSyncID) return json(409, { code: 'SyncError', message: `Conflict caused by: ${sync}`, target: 'userModelSyncID' });
    const id = typeof request.id === 'string' && parseUserId(request.id) !== undefined && request.id.length === 3 ? request.id : undefined;
    if (!id) return json(400, { code: 'BadValue', message: `Error caused by: ${String(request.id)}`, target: 'id' });
    const existing = this.state.users[id];
    if (cmd === 'DELETE') {
      if (!existing) return empty(404);
      delete this.state.users[id];
      return this.committed();
    }
    if (cmd === 'CREATE' && existing) return json(409, { code: 'AlreadyExists', message: `Conflict caused by: ${id}`, target: 'id' });
    if (cmd === 'MODIFY' && !existing) return empty(404);
    const problem = this.checkFields(request, cmd === 'MODIFY');
    if (problem) return json(400, problem);
    const base = existing ?? defaultUser('', '', '');
    const next: SimUser = { ...base };
    for (const key of Object.keys(base) as Array<keyof SimUser>) {
      if (request[key] !== undefined) (next as unknown as Record<string, unknown>)[key] = request[key];
    }
    this.state.users[id] = next;
    return this.committed();
  }

  /** The checks a MAP makes on a user body (UserModelPost): types, enums, the 6-digit passcode, required fields. */
  private checkFields(request: Record<string, unknown>, modify: boolean): { code: string; message: string; target: string } | undefined {
    const need = ['userType', 'firstName', 'passcode', 'accessModel'];
    // Modify: "all user parameters must be specified completely in the requested body schema".
    if (modify) need.push('lastName', 'active', 'language');
    for (const field of need) if (request[field] === undefined) return { code: 'MissingArgument', message: 'Error caused by: ', target: field };
    if (!USER_TYPES.includes(request.userType as (typeof USER_TYPES)[number]))
      return { code: 'BadValue', message: 'Error caused by: userType', target: 'userType' };
    if (typeof request.passcode !== 'string' || !/^\d{6}$/.test(request.passcode))
      return { code: 'BadValue', message: 'Error caused by: passcode', target: 'passcode' };
    if (request.encryptedSecrets === true) return { code: 'BadValue', message: 'Error caused by: encryptedSecrets', target: 'encryptedSecrets' };
    if (!ACCESS_MODELS.includes(request.accessModel as string))
      return { code: 'BadValue', message: `Error caused by: ${String(request.accessModel)}`, target: 'accessModel' };
    for (const field of ['firstName', 'lastName']) {
      const value = request[field];
      if (value !== undefined && (typeof value !== 'string' || value.length > 32)) return { code: 'TooLong', message: 'Error caused by: name', target: field };
    }
    if (request.language !== undefined && !LANGUAGES.includes(request.language as string))
      return { code: 'BadValue', message: 'Error caused by: language', target: 'language' };
    return undefined;
  }

  private committed(): SimResponse {
    this.state.userModelSyncID++;
    this.onChange();
    return json(201, { userModelSyncID: this.state.userModelSyncID });
  }

  private walktestOf(area: string): string | undefined {
    const id = Object.keys(this.state.walktests).find((key) => this.state.walktests[key].areas.includes(area));
    return id ? `/walktest/${id}` : undefined;
  }

  private walktestView(id: string): unknown {
    const test = this.state.walktests[id];
    return {
      '@type': ['IN.walktest.1'],
      '@self': `/walktest/${id}`,
      user: test.user,
      interface: 'OII',
      wt: test.areas.map((area) => ({ area, wtStatus: 'STARTED' })),
    };
  }

  private postArea(area: string, body: string): SimResponse {
    if (!this.state.areas.includes(area)) return empty(404);
    let command: unknown;
    try {
      command = JSON.parse(body)['@cmd'];
    } catch {
      return empty(400);
    }
    if (command === 'STARTWALKTEST') {
      // "Trying to start a walktest in an area which is currently running a walktest is rejected with a 409 return code and the defined String content (not JSON)."
      if (this.walktestOf(area)) return text(409, 'Walktest already running in area');
      const id = randomBytes(16).toString('hex').toUpperCase();
      this.state.walktests[id] = { areas: [area], user: 'OII' };
      this.onChange();
      return json(200, { walktest: `/walktest/${id}` });
    }
    if (command === 'STOPWALKTEST') {
      const link = this.walktestOf(area);
      if (link) delete this.state.walktests[link.slice('/walktest/'.length)];
      this.onChange();
      return json(200, { '@self': area, walktest: '' });
    }
    return empty(400);
  }
}
