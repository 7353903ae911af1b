// Preloaded into a CLI subprocess by test/helpers/clock.ts (cliClockEnv): the process starts at the
// instant in FAPIAO_GUARD_TEST_CLOCK and its clock runs on from there, or stays there with
// FAPIAO_GUARD_TEST_CLOCK_FROZEN=1 (two runs at one instant). Only Date is changed; timers run.
const at = Date.parse(process.env.FAPIAO_GUARD_TEST_CLOCK ?? '');
if (Number.isFinite(at)) {
  const RealDate = Date;
  const offset = at - RealDate.now();
  const now = process.env.FAPIAO_GUARD_TEST_CLOCK_FROZEN === '1' ? () => at : () => RealDate.now() + offset;
  class ShiftedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(now());
      else super(...args);
    }
    static now() {
      return now();
    }
  }
  globalThis.Date = ShiftedDate;
}
