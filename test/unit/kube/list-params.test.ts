import { describe, expect, it } from 'vitest';
import { listParams } from '../../../lib/kube/list-watch.ts';

describe('list pages', () => {
  it('asks for the watch cache on a first list, before any object went to the caller', () => {
    expect(listParams({ handedOver: false, cont: undefined })).toEqual({ limit: '1000', resourceVersion: '0' });
  });

  it('reads the current state once objects were handed over (a relist after 410 Gone)', () => {
    const params = listParams({ handedOver: true, cont: undefined });
    expect(params.resourceVersion).toBeUndefined();
    expect(params.limit).toBe('1000');
  });

  it('sends a continued page its token and no resourceVersion, which the API refuses beside it', () => {
    for (const handedOver of [false, true]) expect(listParams({ handedOver, cont: 'abc' })).toEqual({ limit: '1000', continue: 'abc' });
  });
});
