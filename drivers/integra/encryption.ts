import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { ByteStream } from '../../src/driver-kit/index.js';

/**
 * ETHM-1 Plus encrypted integration. Each PDU is
 *   [length] E( rand(2) counter(2, big-endian) id_s id_r | ordinary frame, zero-padded to >= 16 bytes )
 * with AES-192 in the module's chaining mode: cv = E(0); a full block becomes E(p ^ cv) and is the
 * next cv; a final partial block is xored with E(cv). The key is the integration key (ASCII, up to
 * 12 characters), padded with spaces to 12 and written twice (24 bytes).
 * AES itself is Node's (OpenSSL); only the chaining is here.
 */

const BLOCK = 16;

export function integrationKeyBytes(key: string): Buffer {
  const ascii = Buffer.from(key, 'latin1');
  if (ascii.length > 12 || /[^\x20-\x7e]/.test(key)) throw new RangeError('the integration key is up to 12 printable ASCII characters');
  const twelve = Buffer.alloc(12, 0x20);
  ascii.copy(twelve);
  return Buffer.concat([twelve, twelve]);
}

function aesBlock(key: Buffer, block: Buffer, decrypt = false): Buffer {
  const cipher = decrypt ? createDecipheriv('aes-192-ecb', key, null) : createCipheriv('aes-192-ecb', key, null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(block), cipher.final()]);
}

function xor(a: Buffer, b: Buffer): Buffer {
  return Buffer.from(a.map((byte, i) => byte ^ b[i]));
}

export function encryptPdu(key: Buffer, plain: Buffer): Buffer {
  const data = plain.length < BLOCK ? Buffer.concat([plain, Buffer.alloc(BLOCK - plain.length)]) : plain;
  let cv = aesBlock(key, Buffer.alloc(BLOCK));
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += BLOCK) {
    const block = data.subarray(i, i + BLOCK);
    if (block.length === BLOCK) {
      cv = aesBlock(key, xor(block, cv));
      out.push(cv);
    } else {
      cv = aesBlock(key, cv);
      out.push(xor(block, cv));
    }
  }
  return Buffer.concat(out);
}

export function decryptPdu(key: Buffer, cipher: Buffer): Buffer {
  let cv = aesBlock(key, Buffer.alloc(BLOCK));
  const out: Buffer[] = [];
  for (let i = 0; i < cipher.length; i += BLOCK) {
    const block = cipher.subarray(i, i + BLOCK);
    if (block.length === BLOCK) {
      out.push(xor(aesBlock(key, block, true), cv));
      cv = Buffer.from(block);
    } else {
      cv = aesBlock(key, cv);
      out.push(xor(block, cv));
    }
  }
  return Buffer.concat(out);
}

export interface EncryptedLink extends ByteStream {
  /** PDUs received that did not decrypt to a header we expect: a sign of a wrong key. */
  readonly rejected: number;
  readonly accepted: number;
  /** PDUs received that are byte for byte the last one sent: the line echoes. */
  readonly echoed: number;
}

/**
 * Wraps a stream so that frames written are sent as encrypted PDUs and decrypted frames are
 * delivered to listeners. The client checks that each answer names its own id (a wrong key
 * gives garbage there); the module side learns the client's id from what it receives.
 */
export function encryptedLink(stream: ByteStream, integrationKey: string, role: 'client' | 'module'): EncryptedLink {
  const key = integrationKeyBytes(integrationKey);
  const ownId = randomBytes(1)[0];
  let peerId = 0;
  let counter = randomBytes(2).readUInt16BE(0);
  let pending = Buffer.alloc(0);
  let rejected = 0;
  let accepted = 0;
  let echoed = 0;
  let lastSent: Buffer | undefined;
  const listeners = new Set<(chunk: Buffer) => void>();

  stream.onData((chunk) => {
    pending = Buffer.concat([pending, chunk]);
    if (pending.subarray(0, 4).toString('latin1') === 'Busy') {
      // The module refuses a second client in plain text, encrypted link or not.
      for (const listener of listeners) listener(pending);
      pending = Buffer.alloc(0);
      return;
    }
    while (pending.length > 0 && pending.length >= 1 + pending[0]) {
      const length = pending[0];
      const pdu = pending.subarray(1, 1 + length);
      pending = pending.subarray(1 + length);
      if (lastSent && lastSent.length === 1 + length && lastSent[0] === length && lastSent.subarray(1).equals(pdu)) {
        echoed++;
        rejected++;
        continue;
      }
      if (length < BLOCK) {
        rejected++;
        continue;
      }
      const plain = decryptPdu(key, Buffer.from(pdu));
      if (role === 'client' && plain[5] !== ownId) {
        rejected++;
        continue;
      }
      accepted++;
      peerId = plain[4];
      const frame = plain.subarray(6);
      for (const listener of listeners) listener(frame);
    }
    if (pending.length > 512) pending = Buffer.alloc(0); // cannot be a PDU: resynchronise on the next one
  });

  return {
    get description() {
      return `${stream.description} (encrypted)`;
    },
    get closed() {
      return stream.closed;
    },
    get rejected() {
      return rejected;
    },
    get accepted() {
      return accepted;
    },
    get echoed() {
      return echoed;
    },
    onClose: (listener) => stream.onClose(listener),
    close: () => stream.close(),
    onData(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async write(frame) {
      const header = Buffer.concat([randomBytes(2), Buffer.from([counter >> 8, counter & 0xff, ownId, peerId])]);
      counter = (counter + 1) & 0xffff;
      const encrypted = encryptPdu(key, Buffer.concat([header, Buffer.from(frame)]));
      if (encrypted.length > 255) throw new RangeError('frame too long for one encrypted PDU');
      lastSent = Buffer.concat([Buffer.from([encrypted.length]), encrypted]);
      await stream.write(lastSent);
    },
  };
}
