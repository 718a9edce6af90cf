import { describe, expect, it } from 'vitest';
import { loaderEnvironment } from '../../../../proxy/core/loader-environment.ts';

describe('loaderEnvironment', () => {
  it('asks glibc for huge pages and keeps the rest of the environment', () => {
    expect(loaderEnvironment({ PATH: '/usr/sbin', LANG: 'C' })).toEqual({ PATH: '/usr/sbin', LANG: 'C', GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' });
  });

  it('adds the tunable to those already set', () => {
    expect(loaderEnvironment({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }).GLIBC_TUNABLES).toBe('glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1');
  });

  it('leaves a huge-page choice the node made alone', () => {
    const env = { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' };
    expect(loaderEnvironment(env)).toBe(env);
  });
});
