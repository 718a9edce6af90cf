import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../lib/log.ts';
import { parseRenderArgs, runRender } from '../../../proxy/render-command.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-render-nft-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = createLogger({ component: 'test', level: 'error' });

const OBJECTS = JSON.stringify({
  kind: 'List',
  items: [
    { kind: 'Service', metadata: { name: 'web', namespace: 'ns1' }, spec: { type: 'NodePort', clusterIP: '172.30.0.41', ports: [{ name: 'http', port: 80, nodePort: 30001 }] } },
    {
      kind: 'EndpointSlice',
      metadata: { name: 'web-1', namespace: 'ns1', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080 }],
      endpoints: [{ addresses: ['10.180.0.1'] }],
    },
  ],
});

describe('weft-proxy render --proxy-mode nftables', () => {
  it('prints an nft -f payload replacing the ip weft table, the Service as group elements', () => {
    const file = join(dir, 'objects.json');
    writeFileSync(file, OBJECTS, { mode: 0o600 });
    const text = runRender(parseRenderArgs(['--hostname-override', 'node-1', '--cluster-cidr', '10.180.0.0/16', '--objects', file, '--proxy-mode', 'nftables']), quiet);
    expect(text.startsWith('add table ip weft\ndelete table ip weft\nadd table ip weft\n')).toBe(true);
    expect(text).toContain('add element ip weft eps-tcp-1 { 172.30.0.41 . 80 . 0 : 10.180.0.1 }');
    expect(text).toContain('add element ip weft nodeport-eps-tcp-1 { 30001 . 0 : 10.180.0.1 }');
    expect(text).not.toContain('*filter');
  });

  it('refuses an unknown mode', () => {
    expect(() => parseRenderArgs(['--hostname-override', 'n', '--cluster-cidr', '10.0.0.0/8', '--objects', 'x', '--proxy-mode', 'ipvs'])).toThrow('cannot parse "--proxy-mode": must be one of "iptables", "nftables", got "ipvs"');
  });
});
