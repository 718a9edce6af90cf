import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseIpv4Cidr } from '../../../lib/ip.ts';
import { parseSubnetFile, readSubnetFile, renderSubnetFile, writeSubnetFile } from '../../../weftd/subnet-file.ts';

const env = { network: parseIpv4Cidr('10.244.0.0/16')!, subnet: parseIpv4Cidr('10.244.1.0/24')!, mtu: 1450, ipMasq: true };

describe('subnet file', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('renders flannel\'s variables with the subnet\'s first address as FLANNEL_SUBNET', () => {
    expect(renderSubnetFile(env)).toBe('FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n');
  });

  it('parses what it renders', () => {
    const parsed = parseSubnetFile(renderSubnetFile(env));
    expect(parsed.network).toEqual(env.network);
    expect(parsed.subnet.network).toBe(env.subnet.network);
    expect(parsed.mtu).toBe(1450);
    expect(parsed.ipMasq).toBe(true);
  });

  it.each([
    ['FLANNEL_NETWORK', 'FLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\n'],
    ['FLANNEL_SUBNET', 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=banana\nFLANNEL_MTU=1450\n'],
    ['FLANNEL_MTU', 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=12\n'],
  ])('rejects a file with a bad or missing %s', (name, text) => {
    expect(() => parseSubnetFile(text)).toThrow(name);
  });

  it('writes atomically: mode 0600, directory 0700, no temporary file left', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-subnet-'));
    dirs.push(dir);
    const path = join(dir, 'run/weft/subnet.env');
    writeSubnetFile(path, env);
    writeSubnetFile(path, { ...env, mtu: 1400 });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'run/weft')).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(dir, 'run/weft'))).toEqual(['subnet.env']);
    expect(readSubnetFile(path).mtu).toBe(1400);
  });
});
