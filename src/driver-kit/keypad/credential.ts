import { WrongCredentialError } from '../../core/errors.js';

/**
 * The one-shot rule for credentials entered on a keypad: a panel counts every wrong code toward
 * its keypad lockout, so after one refusal this session enters no code again (of any kind: the
 * count is the keypad's), and every later attempt fails at once with the first refusal.
 */
export class OneShotCredentials {
  private refused?: WrongCredentialError;

  /** Throws the refusal if a code was refused in this session. */
  check(): void {
    if (this.refused) throw this.refused;
  }

  /**
   * Runs `enter`, which sends a code and waits for the panel's verdict. A WrongCredentialError
   * it throws is replaced by `describe(error)` (naming which credential), remembered, and thrown.
   */
  async attempt<T>(enter: () => Promise<T>, describe: (error: WrongCredentialError) => WrongCredentialError = (e) => e): Promise<T> {
    this.check();
    try {
      return await enter();
    } catch (error) {
      if (error instanceof WrongCredentialError) {
        this.refused = describe(error);
        throw this.refused;
      }
      throw error;
    }
  }
}
