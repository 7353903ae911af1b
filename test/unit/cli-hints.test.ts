// Commands suggested in error messages carry the user's --config, so they work when copied.
import { describe, expect, it } from 'vitest';
import { explicitConfig, withConfigFlag } from '../../src/cli/main.js';

describe('suggested commands in errors', () => {
  it('get the --config the user typed', () => {
    const line =
      "fapiao-guard: no backup '2025' of target 'invoices' in 'file:///r' (hint: 'fapiao-guard list' shows the backups)";
    expect(withConfigFlag(line, explicitConfig(['verify', '2025', '--config', 'd/fapiao-guard.yaml']))).toBe(
      "fapiao-guard: no backup '2025' of target 'invoices' in 'file:///r' (hint: 'fapiao-guard list --config d/fapiao-guard.yaml' shows the backups)",
    );
    expect(
      withConfigFlag("see 'fapiao-guard findings --open'", explicitConfig(['status', '--config=/etc/fg.yaml'])),
    ).toBe("see 'fapiao-guard findings --open --config /etc/fg.yaml'");
  });

  it('are left alone without --config, when they have one, and for paths that need quoting', () => {
    const line = "(hint: run 'fapiao-guard backup' first)";
    expect(withConfigFlag(line, explicitConfig(['drill']))).toBe(line);
    expect(withConfigFlag("'fapiao-guard list --config a.yaml'", 'b.yaml')).toBe("'fapiao-guard list --config a.yaml'");
    expect(withConfigFlag(line, 'my configs/fg.yaml')).toBe(line);
  });
});
