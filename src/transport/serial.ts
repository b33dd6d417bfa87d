import { NotSupportedError } from '../core/errors.js';
import type { SerialSettings } from '../core/link.js';
import type { ByteStream, TimeoutOptions } from './types.js';

// Placeholder until the serial transport lands (issue 3).
export async function openSerial(path: string, _settings: SerialSettings, _options: TimeoutOptions): Promise<ByteStream> {
  throw new NotSupportedError(`serial links are not available yet (${path})`);
}

export async function serveSerial(path: string, _settings: SerialSettings, _onConnection: (stream: ByteStream) => void): Promise<{ close(): Promise<void> }> {
  throw new NotSupportedError(`serial links are not available yet (${path})`);
}
