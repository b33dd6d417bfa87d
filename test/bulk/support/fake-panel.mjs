// A small panel model and its driver, for the bulk tests: newline-delimited JSON over real TCP,
// one client at a time (a second one is told BUSY), a login with a credential, a user table,
// and faults (latency, dropped replies, a connection cut just after a write landed).
// Plain JavaScript so that a child process (the kill -9 tests) can load it next to dist/.
// The error classes and transport come from the caller, so `instanceof` works on its side.

/** @param {{ errors: any, transport: { connectTcp: Function, serveTcp: Function } }} lib */
export function fakePanels(lib) {
  const { UnreachableError, WrongCredentialError, PanelRefusedError, ProtocolError } = lib.errors;

  const info = {
    name: 'fake',
    title: 'test panel',
    transports: ['tcp'],
    facets: { writer: { proofs: ['code-check', 'read-back'], nextSlot: false }, reader: true, codeChecker: true, testMode: false, probe: false },
    codeRules: { minLength: 4, maxLength: 6 },
    slotRanges: [
      { from: 1, to: 60, kind: 'user' },
      { from: 61, to: 62, kind: 'master' },
    ],
    secrets: [{ name: 'code', label: 'panel credential', required: true }],
  };

  /** The panel itself. `users`: slot -> { name, code, partitions }. */
  function createPanel({ credential: initialCredential = '2580', users = [], faults = {} } = {}) {
    let credential = initialCredential;
    const state = { users: new Map(users.map((u) => [u.slot, { ...u }])) };
    const stats = { connections: 0, requests: 0, writes: 0, wrongCredentials: 0, busy: 0, writeLog: [] };
    const f = { latencyMs: 0, dropReplies: 0, cutAfterWrites: 0, ...faults };
    let client;
    let server;

    function handle(msg) {
      const user = state.users.get(msg.slot);
      const codeTaken = (code, slot) => [...state.users.entries()].some(([s, u]) => s !== slot && u.code === code);
      switch (msg.op) {
        case 'login':
          if (msg.code !== credential) {
            stats.wrongCredentials++;
            return { error: 'wrong-credential' };
          }
          return { ok: true };
        case 'list':
          return { users: [...state.users.entries()].map(([slot, u]) => ({ slot, name: u.name, partitions: u.partitions })) };
        case 'read':
          return { user: user ? { slot: msg.slot, name: user.name, partitions: user.partitions } : null };
        case 'create':
          if (user) return { error: 'slot-taken' };
          if (codeTaken(msg.code, msg.slot)) return { error: 'code-rejected' };
          state.users.set(msg.slot, { name: msg.name, code: msg.code, partitions: msg.partitions });
          return write('create', msg.slot);
        case 'change':
          if (!user) return { error: 'no-such-user' };
          if (codeTaken(msg.code, msg.slot)) return { error: 'code-rejected' };
          user.code = msg.code;
          return write('change', msg.slot);
        case 'delete':
          if (!user) return { error: 'no-such-user' };
          state.users.delete(msg.slot);
          return write('delete', msg.slot);
        case 'verify':
          // Like INTEGRA's self-info: a code the panel does not know is refused outright.
          return user && user.code === msg.code ? { ok: true } : { error: 'wrong-credential' };
        default:
          return { error: 'unknown-op' };
      }
    }

    function write(op, slot) {
      stats.writes++;
      stats.writeLog.push(`${op}:${slot}`);
      return { ok: true, wrote: true };
    }

    function accept(stream) {
      stats.connections++;
      if (client && !client.closed) {
        stats.busy++;
        void stream.write(Buffer.from('BUSY\n')).then(
          () => stream.close(),
          () => undefined,
        );
        return;
      }
      client = stream;
      let buffer = '';
      let loggedIn = false;
      stream.onData((chunk) => {
        buffer += chunk.toString('utf8');
        for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          let msg;
          try {
            msg = JSON.parse(line);
          } catch {
            continue;
          }
          stats.requests++;
          const reply = msg.op === 'login' || loggedIn ? handle(msg) : { error: 'not-logged-in' };
          if (msg.op === 'login' && reply.ok) loggedIn = true;
          if (reply.wrote && f.cutAfterWrites > 0) {
            // The write landed, but the answer never gets out: the client cannot know.
            f.cutAfterWrites--;
            void stream.close();
            return;
          }
          if (f.dropReplies > 0) {
            f.dropReplies--;
            continue;
          }
          const send = () => !stream.closed && stream.write(Buffer.from(`${JSON.stringify({ id: msg.id, ...reply })}\n`)).catch(() => undefined);
          if (f.latencyMs > 0) setTimeout(send, f.latencyMs);
          else send();
          if (reply.error === 'wrong-credential' && msg.op === 'login') setTimeout(() => stream.close(), 5);
        }
      });
    }

    return {
      state,
      stats,
      setFaults: (partial) => Object.assign(f, partial),
      setCredential: (value) => (credential = value),
      accept,
      demoSecrets: () => ({ code: credential }),
      async listenTcp(host = '127.0.0.1', port = 0) {
        server = await lib.transport.serveTcp(host, port, accept);
        return server;
      },
      async close() {
        await server?.close();
      },
    };
  }

  /** The driver side: one session per connection, one request in flight. */
  async function openSession(link, credential, timeoutMs) {
    const stream = await lib.transport.connectTcp(link.host, link.port, { timeoutMs });
    let buffer = '';
    let pending;
    let nextId = 1;
    const lost = () => new UnreachableError('E_LOST', `lost the connection to ${stream.description}`);
    stream.onData((chunk) => {
      buffer += chunk.toString('utf8');
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const p = pending;
        pending = undefined;
        if (!p) continue;
        if (line === 'BUSY') p.reject(new UnreachableError('E_BUSY', 'panel busy: another client is connected'));
        else p.resolve(JSON.parse(line));
      }
    });
    stream.onClose(() => pending?.reject(lost()));
    function request(msg) {
      if (stream.closed) return Promise.reject(lost());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending = undefined;
          reject(new UnreachableError('E_TIMEOUT', `no answer from ${stream.description} within ${timeoutMs} ms`));
        }, timeoutMs);
        pending = {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        };
        stream.write(Buffer.from(`${JSON.stringify({ id: nextId++, ...msg })}\n`)).catch(() => undefined);
      });
    }
    async function call(msg) {
      const reply = await request(msg);
      if (!reply.error) return reply;
      const slot = msg.slot;
      switch (reply.error) {
        case 'wrong-credential':
          throw new WrongCredentialError(msg.op === 'login' ? 'the panel rejected the credential' : `the panel does not know that code for slot ${slot}`);
        case 'slot-taken':
          throw new PanelRefusedError('E_SLOT_TAKEN', `slot ${slot} is already used`);
        case 'no-such-user':
          throw new PanelRefusedError('E_NO_SUCH_USER', `there is no user in slot ${slot}`);
        case 'code-rejected':
          throw new PanelRefusedError('E_CODE_REJECTED', 'the panel rejected the code (another user may have it)');
        default:
          throw new ProtocolError(`unexpected answer: ${reply.error}`);
      }
    }
    try {
      await call({ op: 'login', code: credential.reveal() });
    } catch (error) {
      await stream.close();
      throw error;
    }
    const slotOf = (u) => ({ slot: u.slot, kind: u.slot > 60 ? 'master' : 'user', name: u.name, partitions: u.partitions, hasCode: true });
    const capabilities = ['users.list', 'users.add', 'users.set-code', 'users.remove', 'users.verify-code'];
    const session = {
      info: async () => ({ driver: 'fake', model: 'Fake', slotRanges: info.slotRanges, capabilities, codeRules: info.codeRules }),
      listUsers: async () => (await call({ op: 'list' })).users.map(slotOf),
      readUser: async (slot) => {
        const { user } = await call({ op: 'read', slot });
        return user ? slotOf(user) : undefined;
      },
      createUser: async (u) => {
        await call({ op: 'create', slot: u.slot, name: u.name, code: u.code.reveal(), partitions: u.partitions });
        return slotOf({ slot: u.slot, name: u.name, partitions: u.partitions });
      },
      changeCode: async (slot, code) => void (await call({ op: 'change', slot, code: code.reveal() })),
      deleteUser: async (slot) => void (await call({ op: 'delete', slot })),
      verifyCode: async (slot, code) => Boolean((await call({ op: 'verify', slot, code: code.reveal() })).ok),
      close: () => stream.close(),
    };
    // Contract v2 facets: the one object is writer, reader and code checker.
    return Object.assign(session, { writer: session, reader: session, codeChecker: session });
  }

  /** A PanelAccess (src/bulk/access.ts) for targets whose credential is an env: reference. */
  const access = {
    describe: async () => info,
    async open(target, ctx) {
      const ref = target.secretRefs.code ?? target.credentialRef ?? '';
      const value = ref.startsWith('env:') ? process.env[ref.slice(4)] : undefined;
      if (!value) throw new lib.errors.UsageError(`no credential for ${target.name}`);
      const { Secret } = lib.secret;
      const session = await openSession(target.link, new Secret(value, 'credential'), target.timeoutMs ?? ctx.timeoutMs);
      // hangUp as openPanel gives it: the connection ends; close() (a no-op by then) would also release a lock.
      return { session, info, hangUp: () => session.close(), close: () => session.close() };
    },
  };

  return { info, createPanel, access };
}
