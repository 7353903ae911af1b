// Preloaded into a CLI subprocess by test/helpers/clock.ts (cliClockEnv): the process starts at the
// instant in FAPIAO_GUARD_TEST_CLOCK and its clock runs on from there. Only Date is shifted.
const at = Date.parse(process.env.FAPIAO_GUARD_TEST_CLOCK ?? '');
if (Number.isFinite(at)) {
  const RealDate = Date;
  const offset = at - RealDate.now();
  class ShiftedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...args);
    }
    static now() {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = ShiftedDate;
}
