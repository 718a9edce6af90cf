import { describe, expect, it } from 'vitest';
import { fullSyncSplit } from '../../../bench/proxy-sync-log.ts';

const line = (fields: Record<string, unknown>) => JSON.stringify({ level: 'info', component: 'weft-proxy', ...fields });

describe("weft-proxy's full sync split from its log", () => {
  const spawnedAt = Date.parse('2026-12-01T22:00:34.700Z');

  it('splits process start to first full sync into start-up, listing and the sync', () => {
    const log = [
      line({ time: '2026-12-01T22:00:35.114Z', msg: 'started' }),
      'a line that is not JSON',
      line({ time: '2026-12-01T22:00:37.523Z', msg: 'informers synced' }),
      line({ time: '2026-12-01T22:00:41.416Z', msg: 'synced', kind: 'full', ms: 3890.9 }),
      line({ time: '2026-12-01T22:00:52.684Z', msg: 'synced', kind: 'partial', ms: 46.7 }),
    ].join('\n');
    expect(fullSyncSplit(log, spawnedAt)).toEqual({ startupMs: 414, listMs: 2409, syncMs: 3891 });
  });

  it("carries the sync's parts when the proxy logged them", () => {
    const phasesMs = { cleanup: 12.5, state: 190.1, render: 160, kernel: 1400.2 };
    const log = [
      line({ time: '2026-12-01T22:00:35.114Z', msg: 'started' }),
      line({ time: '2026-12-01T22:00:37.523Z', msg: 'informers synced' }),
      line({ time: '2026-12-01T22:00:39.300Z', msg: 'synced', kind: 'full', ms: 1772.8, phasesMs }),
    ].join('\n');
    expect(fullSyncSplit(log, spawnedAt)).toEqual({ startupMs: 414, listMs: 2409, syncMs: 1773, syncPhasesMs: phasesMs });
  });

  it('gives nothing when the proxy never reached its first full sync', () => {
    const log = [line({ time: '2026-12-01T22:00:35.114Z', msg: 'started' }), line({ time: '2026-12-01T22:00:37.523Z', msg: 'informers synced' })].join('\n');
    expect(fullSyncSplit(log, spawnedAt)).toBeUndefined();
  });
});
