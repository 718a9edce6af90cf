import { describe, expect, it } from 'vitest';
import { resolveTarget, type Lookup } from '../../../troubleshoot/kube/resolve-target.ts';
import { parseTarget } from '../../../troubleshoot/model/target.ts';

const OBJECTS: Record<string, unknown> = {
  'pod shop web-0': { metadata: { name: 'web-0' }, spec: { nodeName: 'node-2', containers: [{ ports: [{ name: 'metrics', containerPort: 9090 }] }] }, status: { phase: 'Running', podIP: '10.244.2.7' } },
  'pod shop pending': { spec: {}, status: { phase: 'Pending' } },
  'service shop api': { spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] } },
  'service shop single': { spec: { clusterIP: '10.96.0.21', ports: [{ port: 8443, protocol: 'TCP' }] } },
  'service shop headless': { spec: { clusterIP: 'None', ports: [] } },
  'node - node-2': { metadata: { name: 'node-2' }, status: { addresses: [{ type: 'Hostname', address: 'node-2' }, { type: 'InternalIP', address: '172.30.0.2' }] } },
};
const lookup: Lookup = async (kind, namespace, name) => OBJECTS[`${kind} ${namespace ?? '-'} ${name}`];
const resolve = (text: string, flag: 'from' | 'to' = 'to') => resolveTarget(parseTarget(text, flag), lookup);

describe('resolving Kubernetes names', () => {
  it('a Pod to its address and node, a named container port to its number', async () => {
    expect(await resolve('pod/shop/web-0', 'from')).toMatchObject({ ip: '10.244.2.7', node: 'node-2' });
    expect(await resolve('pod/shop/web-0:metrics')).toMatchObject({ ip: '10.244.2.7', port: 9090, proto: 'tcp' });
  });

  it('a Service to its ClusterIP and the port named, numbered or only one', async () => {
    expect(await resolve('svc/shop/api:dns')).toMatchObject({ ip: '10.96.0.20', port: 53, proto: 'udp', label: 'svc/shop/api:dns (10.96.0.20:53/udp)' });
    expect(await resolve('svc/shop/api:80')).toMatchObject({ port: 80, proto: 'tcp' });
    expect(await resolve('svc/shop/single')).toMatchObject({ ip: '10.96.0.21', port: 8443 });
  });

  it('a Node to its InternalIP', async () => {
    expect(await resolve('node/node-2:30080')).toMatchObject({ ip: '172.30.0.2', port: 30080, node: 'node-2' });
  });

  it('says what is wrong with a name it cannot use', async () => {
    await expect(resolve('pod/shop/nope', 'from')).rejects.toThrow('cannot resolve "pod/shop/nope": Pod "nope" not found in namespace "shop"');
    await expect(resolve('pod/shop/pending', 'from')).rejects.toThrow('the Pod has no IPv4 address yet (phase Pending)');
    await expect(resolve('svc/shop/api')).rejects.toThrow('several ports (http, dns): name one');
    await expect(resolve('svc/shop/api:81')).rejects.toThrow('the Service has no port 81');
    await expect(resolve('svc/shop/api:http/udp')).rejects.toThrow('the port is TCP, not UDP');
    await expect(resolve('svc/shop/headless')).rejects.toThrow('headless');
    await expect(resolve('node/node-3')).rejects.toThrow('Node "node-3" not found');
  });
});
