import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../lib/log.ts';
import { parseObjectsText } from '../../../proxy/load-objects.ts';
import { parseRenderArgs, runRender } from '../../../proxy/render-command.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-render-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = createLogger({ component: 'test', level: 'error' });

const YAML = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: web, namespace: ns1}
  spec:
    type: NodePort
    clusterIP: 172.30.0.41
    ports: [{name: http, port: 80, nodePort: 30001}]
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: web-1, namespace: ns1, labels: {kubernetes.io/service-name: web}}
  addressType: IPv4
  ports: [{name: http, port: 8080}]
  endpoints: [{addresses: [10.180.0.1]}]
- apiVersion: v1
  kind: Node
  metadata: {name: node-1}
  status: {addresses: [{type: InternalIP, address: 10.0.0.5}]}
`;

const ARGS = ['--hostname-override', 'node-1', '--cluster-cidr', '10.180.0.0/16'];

describe('weft-proxy render', () => {
  it('reads a YAML List as kubectl prints it, and the same objects as JSON', () => {
    const fromYaml = parseObjectsText(YAML, 'x.yaml');
    expect(fromYaml.services).toHaveLength(1);
    expect(parseObjectsText(JSON.stringify({ kind: 'List', items: [{ kind: 'Node', metadata: { name: 'n' } }] }), 'x.json').nodes).toHaveLength(1);
  });

  it('prints a restore payload with the Service DNATed and the built-in jumps', () => {
    const file = join(dir, 'objects.yaml');
    writeFileSync(file, YAML, { mode: 0o600 });
    const text = runRender(parseRenderArgs([...ARGS, '--objects', file]), quiet);
    expect(text).toMatch(/^\*filter\n/);
    expect(text).toContain('-j DNAT --to-destination 10.180.0.1:8080');
    expect(text).toContain('-I PREROUTING -m comment --comment "WEFT-SERVICES service portals" -j WEFT-SERVICES');
  });

  it('turns --nodeport-addresses primary into the node address from the Node object', () => {
    const file = join(dir, 'objects-primary.yaml');
    writeFileSync(file, YAML, { mode: 0o600 });
    const text = runRender(parseRenderArgs([...ARGS, '--objects', file, '--nodeport-addresses', 'primary']), quiet);
    expect(text).toContain('-d 10.0.0.5/32 -j WEFT-NODEPORTS');
    expect(text).not.toContain('--dst-type LOCAL -j WEFT-NODEPORTS');
  });

  it('rejects missing and malformed options by name', () => {
    expect(() => parseRenderArgs(['--cluster-cidr', '10.0.0.0/8', '--objects', 'x'])).toThrow('"--hostname-override" is required');
    expect(() => parseRenderArgs([...ARGS.slice(0, 2), '--cluster-cidr', '10.0.0.0', '--objects', 'x'])).toThrow('"--cluster-cidr": must be an IPv4 CIDR such as 10.244.0.0/16, got "10.0.0.0"');
    expect(() => parseRenderArgs([...ARGS, '--objects', 'x', '--masquerade-bit', '40'])).toThrow('"--masquerade-bit": must be a decimal integer from 0 to 31, got "40"');
  });

  it('names the object and field of an invalid object, and the file it could not parse', () => {
    expect(() => parseObjectsText(YAML.replace('nodePort: 30001', 'nodePort: 0'), 'x.yaml')).toThrow('cannot read Service "ns1/web": field "spec.ports[0].nodePort"');
    expect(() => parseObjectsText('{"kind": ', 'bad.json')).toThrow('cannot parse objects file "bad.json"');
  });
});
