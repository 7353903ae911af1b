import { expect, it } from 'vitest';

it('runs', () => expect(1).toBe(1));
it('needs a tmpfs', (ctx) => ctx.skip("needs capability 'mount tmpfs': cannot mount here"));
