import { beforeAll, expect, it } from 'vitest';

beforeAll(() => {
  throw new Error('the fixture database is not there');
});
it('would compare rows', () => expect(1).toBe(1));
it('would compare checksums', () => expect(1).toBe(1));
