import { Secret } from '../core/secret.js';
import { UsageError } from '../core/errors.js';
import { readPrivateFile } from '../state/safe-file.js';
import { expandHome } from '../state/paths.js';

/** Asks the person at the terminal for a secret, masked. Absent when there is no terminal. */
export type SecretPrompt = (label: string) => Promise<string>;

/**
 * Reads a secret from where a reference points: `env:NAME`, `file:PATH` (yours and 0600,
 * like an ssh key; not a link), or `prompt` (masked, terminal only). Errors name the reference, never a value.
 */
export async function resolveSecretRef(ref: string, label: string, prompt?: SecretPrompt): Promise<Secret> {
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    const value = process.env[name];
    if (value === undefined || value === '') {
      throw new UsageError(`${label}: environment variable ${name} is not set`, { code: 'E_SECRET_MISSING' });
    }
    return new Secret(value.trim(), label);
  }
  if (ref.startsWith('file:')) {
    const file = expandHome(ref.slice(5));
    try {
      // One open descriptor, checked and then read: no window to swap the file in between.
      const value = (await readPrivateFile(file, `secrets file for ${label}`, 64 * 1024)).split(/\r?\n/)[0].trim();
      if (!value) throw new UsageError(`${label}: secrets file ${file} is empty`, { code: 'E_SECRET_MISSING' });
      return new Secret(value, label);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new UsageError(`${label}: secrets file ${file} does not exist`, { code: 'E_SECRET_MISSING' });
      }
      throw error;
    }
  }
  if (ref === 'prompt') {
    if (!prompt) {
      throw new UsageError(`${label} must be typed at a prompt, but there is no terminal`, {
        code: 'E_NO_TTY',
        hint: 'configure the secret as env:VARIABLE or file:PATH for scripted use',
      });
    }
    const value = await prompt(label);
    if (!value) throw new UsageError(`${label}: nothing was entered`, { code: 'E_SECRET_MISSING' });
    return new Secret(value, label);
  }
  throw new UsageError(`${label}: unknown secret reference (use env:VARIABLE, file:PATH or prompt)`);
}
