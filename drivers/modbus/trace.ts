/**
 * The `--debug` text of a Modbus PDU with code registers masked by the register map, read from
 * the frame itself wherever the frame says which registers it carries, in either direction:
 * function 6 (request and its echo reply: address + value), function 16 requests (and their echo
 * on a line that echoes: address + values). A read reply (3, 4) does not say which registers it
 * holds; it is masked by the read asked when it is known to answer it, and shows no values at
 * all otherwise (a late reply after a timeout, a stray frame). Masking never depends on a reply
 * arriving in time (issue 14 item 3). Pure.
 */

export interface ReadAsked {
  address: number;
  count: number;
}

const hex = (b: number) => b.toString(16).padStart(2, '0');

export function maskedPduHex(pdu: Uint8Array, isSecret: ((address: number) => boolean) | undefined, read?: ReadAsked): string {
  const masked = new Set<number>();
  const maskRegisters = (dataAt: number, firstAddress: number | undefined) => {
    for (let at = dataAt, k = 0; at < pdu.length; at += 2, k++) {
      if (firstAddress === undefined || !isSecret || isSecret(firstAddress + k)) masked.add(at).add(at + 1);
    }
  };
  const address = pdu.length >= 3 ? (pdu[1] << 8) | pdu[2] : undefined;
  switch (pdu[0]) {
    case 6:
      if (address !== undefined && (!isSecret || isSecret(address))) masked.add(3).add(4);
      break;
    case 16:
      // The reply is address + count only; anything longer is a request (or its echo) with values.
      if (pdu.length > 5 && address !== undefined) maskRegisters(6, isSecret ? address : undefined);
      break;
    case 3:
    case 4:
      // A reply: byte count, then values. (A 5-byte request echoed has no values: nothing to hide.)
      if (pdu.length >= 2 && pdu[1] === pdu.length - 2) maskRegisters(2, read?.address);
      break;
  }
  return [...pdu].map((b, i) => (masked.has(i) ? '**' : hex(b))).join(' ');
}
