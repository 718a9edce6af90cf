import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../lib/log.ts';
import { KubeSubnetManager } from '../../../weftd/subnet/kube-subnet-manager.ts';
import { NetworkConfigError } from '../../../weftd/subnet/network-config.ts';

// The net-conf file is read before any API call: these managers point at a closed port and are never asked to connect.

const dir = mkdtempSync(join(tmpdir(), 'weft-netconf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function managerFor(netConfigPath: string): KubeSubnetManager {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromClusterAndUser({ name: 'test', server: 'https://127.0.0.1:1', skipTLSVerify: false }, { name: 'test' });
  return new KubeSubnetManager(kubeConfig, { nodeName: 'node-a', netConfigPath, log: createLogger({ component: 'test', level: 'error' }) });
}

describe('KubeSubnetManager network config', () => {
  it('reads flannel\'s net-conf.json from the file', async () => {
    const path = join(dir, 'good.json');
    writeFileSync(path, JSON.stringify({ Network: '10.244.0.0/16', Backend: { Type: 'vxlan', VNI: 4 } }), { mode: 0o600 });
    const config = await managerFor(path).getNetworkConfig();
    expect(config.backend.vni).toBe(4);
    expect(config.subnetLen).toBe(24);
  });

  it('fails at once, naming the path, when the file is missing', async () => {
    const path = join(dir, 'absent.json');
    await expect(managerFor(path).getNetworkConfig()).rejects.toThrow(NetworkConfigError);
    await expect(managerFor(path).getNetworkConfig()).rejects.toThrow(`cannot read network config "${path}": ENOENT`);
  });

  it('fails at once, naming the path and the field, when the file is unusable', async () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify({ Network: '10.244.0.0/33' }), { mode: 0o600 });
    await expect(managerFor(path).getNetworkConfig()).rejects.toThrow(new RegExp(`cannot use network config ".*bad\\.json": invalid network config: "Network"`));
  });
});
