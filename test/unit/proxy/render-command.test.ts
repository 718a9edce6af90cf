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

describe('weft-proxy render reads its input as the daemon does', () => {
  const render = (text: string, name: string) => {
    const file = join(dir, name);
    writeFileSync(file, text, { mode: 0o600 });
    return runRender(parseRenderArgs([...ARGS, '--objects', file]), quiet);
  };
  const base = render(YAML, 'base.yaml');
  const withExtraService = (spec: string) =>
    YAML.replace('- apiVersion: discovery.k8s.io/v1', `- apiVersion: v1\n  kind: Service\n  metadata: {name: extra, namespace: ns1}\n  spec:\n${spec}\n- apiVersion: discovery.k8s.io/v1`);

  it.each([
    ['an IPv6 clusterIP', '    clusterIP: fd00::10\n    ports: [{port: 80}]'],
    ['a null clusterIP', '    clusterIP: null\n    ports: [{port: 80}]'],
    ['a null port', '    clusterIP: 172.30.0.42\n    ports: [{port: null}]'],
  ])('skips a Service with %s and renders the rest, as the daemon skips it', (_, spec) => {
    expect(render(withExtraService(spec), 'extra.yaml')).toBe(base);
  });

  it('skips an object whose name holds a newline instead of injecting lines into the payload', () => {
    const text = withExtraService('    clusterIP: 172.30.0.42\n    ports: [{port: 80}]').replace('name: extra', 'name: "extra\\n-A INPUT -j ACCEPT"');
    const out = render(text, 'newline.yaml');
    expect(out).toBe(base);
    expect(out).not.toContain('-A INPUT -j ACCEPT');
  });

  it('reads a file that starts with a UTF-8 byte order mark', () => {
    expect(render(`\uFEFF${YAML}`, 'bom.yaml')).toBe(base);
  });

  it.each([
    ['an empty file', '', 'it is empty'],
    ['whitespace only', '\n  \n', 'it is empty'],
    ['a List whose items are null', 'kind: List\nitems: null\n', '"items" must be a list, got null'],
    ['a bare scalar', '42\n', 'holds no object or List'],
  ])('refuses %s instead of printing an empty payload', (_, text, message) => {
    expect(() => render(text, 'bad.yaml')).toThrow(message);
  });

  it('refuses a device instead of reading it without end', () => {
    expect(() => runRender(parseRenderArgs([...ARGS, '--objects', '/dev/zero']), quiet)).toThrow('it is a device, not a regular file');
  });
});
