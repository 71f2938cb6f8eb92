import { describe, expect, it } from 'vitest';
import { agoText } from './time-ago.ts';

describe('time ago', () => {
  it('counts seconds, then minutes, hours and days; a clock slightly behind shows 0 s', () => {
    expect([-500, 0, 999, 1000, 59_999, 60_000, 3_599_999, 3_600_000, 47 * 3_600_000, 48 * 3_600_000].map(agoText)).toEqual([
      '0 s ago', '0 s ago', '0 s ago', '1 s ago', '59 s ago', '1 min ago', '59 min ago', '1 h ago', '47 h ago', '2 days ago',
    ]);
  });
});
