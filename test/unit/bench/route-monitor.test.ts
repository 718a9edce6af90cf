import { describe, expect, it } from 'vitest';
import { parseRouteEvent } from '../../../bench/route-monitor.ts';

describe('parseRouteEvent', () => {
  it('reads the destination and the kernel\'s time of an added and a deleted route', () => {
    expect(parseRouteEvent('[2026-12-01T22:30:25.869702] 10.244.7.0/24 via 10.244.7.0 dev weft.1 onlink ')).toEqual({ dst: '10.244.7.0/24', deleted: false, at: Date.parse('2026-12-01T22:30:25Z') + 869.702 });
    expect(parseRouteEvent('[2026-12-01T22:30:26.000001] Deleted 10.244.7.0/24 via 10.244.7.0 dev weft.1 onlink ')).toMatchObject({ dst: '10.244.7.0/24', deleted: true });
  });

  it('skips lines without the short timestamp', () => {
    expect(parseRouteEvent('Timestamp: Tue Dec  1 22:30:26 2026 468550 usec')).toBeUndefined();
  });
});
