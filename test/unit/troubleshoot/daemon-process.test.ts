import { describe, expect, it } from 'vitest';
import { weftCommandOf } from '../../../troubleshoot/state/daemon-process.ts';

describe('which weft daemon a command line runs', () => {
  it('through its link, through `weft <command>`, or from the sources', () => {
    expect(weftCommandOf(['/opt/weft/bin/weftd', '--kube-subnet-mgr'])).toEqual({ command: 'weftd', args: ['--kube-subnet-mgr'] });
    expect(weftCommandOf(['/opt/weft/bin/weft', 'weft-proxy', '--cluster-cidr=10.244.0.0/16'])).toEqual({ command: 'weft-proxy', args: ['--cluster-cidr=10.244.0.0/16'] });
    expect(weftCommandOf(['/usr/bin/node', '/src/bin/weft.ts', 'weftd', '--iface=eth0'])).toEqual({ command: 'weftd', args: ['--iface=eth0'] });
  });

  it('is nothing for other programs', () => {
    expect(weftCommandOf(['/usr/bin/flanneld', '--ip-masq'])).toBeUndefined();
    expect(weftCommandOf(['/usr/bin/weftd-helper'])).toBeUndefined();
  });
});
