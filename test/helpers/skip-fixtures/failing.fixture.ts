import { expect, it } from 'vitest';

it('runs', () => expect(1).toBe(1));
it('compares totals', () => {
  throw new Error('totals differ: 1 against 2\nsecond line of detail');
});
