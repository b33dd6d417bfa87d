import {
  type DriverInfo,
  type HttpClient,
  type Link,
  type OpenOptions,
  type PanelDriver,
  type ProbeOptions,
  type ProbeResult,
  Secret,
  UnreachableError,
  ValidationError,
  formatMs,
  openHttp,
  optionHelpOf,
  parseDriverOptions,
  quietLeft,
  sinceLastContact,
} from '../../src/driver-kit/index.js';
import { type HttpSend, MapClient } from './client.js';
import { silentPanelHint } from './failures.js';
import { MAX_RESPONSE_BYTES } from './limits.js';
import { SECRETS, optionsSchema, secretsSchema } from './options.js';
import { Pacer } from './pacing.js';
import { FIRST_USER_ID, LAST_USER_ID, PATHS } from './paths.js';
import { chooseDigestChallenge } from './digest.js';
import { descAnswer } from './schemas.js';
import { MapSession } from './session.js';

const INFO: DriverInfo = {
  name: 'map5000',
  title: 'Bosch MAP 5000 (HTTPS REST API, MUM licence for user changes)',
  transports: ['https'],
  facets: { writer: { proofs: ['code-check', 'read-back'], nextSlot: true }, reader: true, codeChecker: true, testMode: true, probe: true },
  // "6 digit numerical passcode" (docs/UserModelPost.md).
  codeRules: { minLength: 6, maxLength: 6 },
  slotRanges: [{ from: FIRST_USER_ID, to: LAST_USER_ID, kind: 'user' }],
  secrets: SECRETS,
  userNames: true,
  addRefuses: {
    partitions: 'MAP 5000 users get their areas from their access model: set options.accessModel (e.g. --option accessModel=NAME)',
    type: 'the MAP 5000 user type is the panel option userType: --option userType=... (see `panelctl drivers -o json`)',
  },
  nameRules: { maxLength: 65, charset: 'ascii', charsetTitle: 'printable ASCII' },
  credentialLockout: {
    note: 'MAP panels with "User Passcode Tamper" refuse every request from the address for a time set in RPS after a few wrong credentials',
  },
  options: optionHelpOf(optionsSchema),
};

/** The kit's HTTPS client as the MapClient's HttpSend: status, headers and the body as text. */
function sendOver(http: HttpClient): HttpSend {
  return async (request) => {
    try {
      const response = await http.request({ method: request.method, path: request.path, headers: request.headers, body: request.body });
      return { status: response.status, headers: response.headers, body: response.text() };
    } catch (error) {
      if (error instanceof UnreachableError && (error.code === 'E_TIMEOUT' || error.code === 'E_LOST')) {
        throw new UnreachableError(error.code, error.message, { hint: silentPanelHint(), cause: error, data: error.data });
      }
      throw error;
    }
  };
}

export const driver: PanelDriver = {
  describe: () => INFO,

  async open(open: OpenOptions) {
    const options = parseDriverOptions(optionsSchema, open.options);
    const password = open.secrets.password;
    if (!(password instanceof Secret) || !secretsSchema.shape.password.safeParse(password.reveal()).success) {
      throw new ValidationError('secrets.password', 'the REST-API password (oiiPassword) is required');
    }
    const http = await openHttp(open.link, { timeoutMs: open.timeoutMs, signal: open.signal, maxBodyBytes: MAX_RESPONSE_BYTES });
    const pacer = new Pacer(options.requestIntervalMs);
    // The panel counts its interval from the last answer to any client: a panelctl run just before this one too.
    const ago = sinceLastContact(open.lastContactAt);
    if (ago !== undefined) pacer.answeredAgo(ago);
    // A previous session ended in the overload back-off: the panel's "60 seconds communication delay" still runs.
    const quiet = quietLeft(open.quietUntil, options.overloadBackoffMs);
    if (quiet !== undefined) {
      pacer.holdOff(quiet);
      open.onQuiet?.({ until: Date.now() + quiet, why: `asked for ${formatMs(options.overloadBackoffMs)} without requests after an overload` });
    }
    const client = new MapClient({
      send: sendOver(http),
      pacer,
      username: options.user,
      password,
      signal: open.signal,
      overloadBackoffMs: options.overloadBackoffMs,
      trace: open.trace,
    });
    return new MapSession(client, INFO, options, pacer);
  },

  /** GET /desc without credentials: a MAP answers its description, or asks for digest credentials for it. */
  async probe(link: Link, options: ProbeOptions): Promise<ProbeResult | undefined> {
    const http = await openHttp(link, { timeoutMs: options.timeoutMs, signal: options.signal, maxBodyBytes: 64 * 1024 });
    const response = await http.request({ method: 'GET', path: PATHS.desc, headers: { accept: 'application/json' } });
    if (response.status === 200) {
      const desc = descAnswer.safeParse(
        (() => {
          try {
            return JSON.parse(response.text());
          } catch {
            return undefined;
          }
        })(),
      );
      return desc.success && /MAP/i.test(desc.data.modelName)
        ? { driver: 'map5000', model: desc.data.modelName, firmware: desc.data.firmwareVersion }
        : undefined;
    }
    const challenge = response.headers['www-authenticate'];
    if (response.status === 401 && challenge && chooseDigestChallenge(Array.isArray(challenge) ? challenge : [challenge])) {
      return { driver: 'map5000', model: 'MAP 5000 (asks for digest credentials at /desc, as a MAP does)' };
    }
    return undefined;
  },
};
