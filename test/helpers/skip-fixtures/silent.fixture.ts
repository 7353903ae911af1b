import { expect, it } from 'vitest';

it('runs', () => expect(1).toBe(1));
it.skip('skipped for no stated reason', () => expect(1).toBe(2));
it('skipped with a reason that is not a capability CI may lack', (ctx) =>
  ctx.skip("needs capability 'a database': not running"));
