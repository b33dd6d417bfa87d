// Preloaded with NODE_OPTIONS=--import: moves this process's wall clock (Date) by
// PANELCTL_TEST_CLOCK_SHIFT_MS, as a machine whose clock is set wrong. The kernel's clocks
// (uptime, monotonic time) are untouched, exactly as on such a machine.
const shift = Number(process.env.PANELCTL_TEST_CLOCK_SHIFT_MS || 0);
const RealDate = Date;
class ShiftedDate extends RealDate {
  constructor(...args) {
    super(...(args.length ? args : [RealDate.now() + shift]));
  }
  static now() {
    return RealDate.now() + shift;
  }
}
globalThis.Date = ShiftedDate;
