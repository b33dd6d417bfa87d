/**
 * "Leave the menu on every exit path": a keypad left in a programming menu blocks the panel's
 * other keypads until it times out (minutes), and the next session finds it there. The guard
 * remembers which menu the keypad may be in from the first key on, runs each operation so that
 * any failure (Ctrl-C included) takes the keypad out first, and leaves on close.
 */
export class MenuGuard<Menu extends string> {
  private current: Menu | undefined;

  /** `exit` takes the keypad out of `menu` (it must not depend on Ctrl-C: it is the way out). */
  constructor(private readonly exit: (menu: Menu) => Promise<void>) {}

  /** The menu the keypad may be in; undefined when it is known to be idle. */
  get menu(): Menu | undefined {
    return this.current;
  }

  /** Call before the first key that may enter `menu`: from then on, an error must take the keypad out. */
  entering(menu: Menu): void {
    this.current = menu;
  }

  /** The panel left the menu by itself (a refused code, a lockout, a timeout). */
  left(): void {
    this.current = undefined;
  }

  /** Takes the keypad out of its menu, if it may be in one. */
  async leave(): Promise<void> {
    const menu = this.current;
    if (menu === undefined) return;
    await this.exit(menu);
    this.current = undefined;
  }

  /** Runs one operation; on any failure the keypad is taken out of its menu first (errors doing so are dropped). */
  async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      await this.leave().catch(() => undefined);
      throw error;
    }
  }
}
