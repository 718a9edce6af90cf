import { describe, expect, it } from 'vitest';
import { FLANNEL_VERSION, flannelLdflags, flanneldPath, withoutUnbuildableBackends } from '../../../scripts/flannel-tools.ts';

const MAIN_GO = [
  'import (',
  '\t_ "github.com/flannel-io/flannel/pkg/backend/ipip"',
  '\t_ "github.com/flannel-io/flannel/pkg/backend/tencentvpc"',
  '\t_ "github.com/flannel-io/flannel/pkg/backend/udp"',
  '\t_ "github.com/flannel-io/flannel/pkg/backend/vxlan"',
  ')',
].join('\n');

describe('flannel tools', () => {
  it('drops only the tencentvpc and udp backend imports from main.go', () => {
    expect(withoutUnbuildableBackends(MAIN_GO)).toBe(
      ['import (', '\t_ "github.com/flannel-io/flannel/pkg/backend/ipip"', '\t_ "github.com/flannel-io/flannel/pkg/backend/vxlan"', ')'].join('\n'),
    );
  });

  it('refuses a main.go that no longer imports a backend it expects to drop, naming it', () => {
    const changed = MAIN_GO.replace(/.*backend\/udp".*\n/, '');
    expect(() => withoutUnbuildableBackends(changed)).toThrow(/cannot drop backends from main.go: no '_ "github.com\/flannel-io\/flannel\/pkg\/backend\/udp"' import/);
  });

  it('stamps the version where flanneld --version reads it', () => {
    expect(flannelLdflags('v0.28.10')).toBe('-s -w -X github.com/flannel-io/flannel/pkg/version.Version=v0.28.10');
  });

  it('caches flanneld per version under WEFT_CACHE_DIR, and refuses a version that is not vX.Y.Z', () => {
    expect(flanneldPath(FLANNEL_VERSION, { WEFT_CACHE_DIR: '/c' })).toBe(`/c/flannel/${FLANNEL_VERSION}/flanneld`);
    expect(() => flanneldPath('../x', { WEFT_CACHE_DIR: '/c' })).toThrow(/cannot name the cache directory: "..\/x" is not vX.Y.Z/);
  });
});
