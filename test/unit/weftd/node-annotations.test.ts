import { describe, expect, it } from 'vitest';
import { parseIpv4Cidr } from '../../../lib/ip.ts';
import { leasesFromNodes, nodeLease, podCidrProblem, renderAnnotationPatch, renderLeaseAnnotations, type NodeLike } from '../../../weftd/subnet/node-annotations.ts';

const network = parseIpv4Cidr('10.244.0.0/16')!;
const lease = { subnet: parseIpv4Cidr('10.244.1.0/24')!, publicIp: '172.30.0.2', vni: 1, vtepMac: '0e:aa:bb:cc:dd:ee' };

function node(name: string, podCIDR: string | undefined, annotations: Record<string, string> = {}): NodeLike {
  return { metadata: { name, annotations }, spec: podCIDR === undefined ? {} : { podCIDR, podCIDRs: [podCIDR] } };
}

describe('node annotations', () => {
  it('renders the backend data under weft.dev/ in flannel\'s value shapes', () => {
    expect(renderLeaseAnnotations(lease)).toEqual({
      'weft.dev/backend-type': 'vxlan',
      'weft.dev/backend-data': '{"VNI":1,"VtepMAC":"0e:aa:bb:cc:dd:ee"}',
      'weft.dev/public-ip': '172.30.0.2',
      'weft.dev/kube-subnet-manager': 'true',
    });
  });

  it('turns a Node with a podCIDR and our annotations into its lease', () => {
    expect(nodeLease(node('a', '10.244.1.0/24', renderLeaseAnnotations(lease)))).toEqual(lease);
  });

  it('takes the IPv4 entry of a dual-stack Node\'s podCIDRs', () => {
    const dual: NodeLike = { metadata: { annotations: renderLeaseAnnotations(lease) }, spec: { podCIDR: 'fd00:10:244:1::/64', podCIDRs: ['fd00:10:244:1::/64', '10.244.1.0/24'] } };
    expect(nodeLease(dual)?.subnet).toEqual(lease.subnet);
  });

  it.each([
    ['no podCIDR yet', node('a', undefined, renderLeaseAnnotations(lease))],
    ['no annotations', node('a', '10.244.1.0/24')],
    ['flannel\'s annotations only', node('a', '10.244.1.0/24', { 'flannel.alpha.coreos.com/backend-type': 'vxlan', 'flannel.alpha.coreos.com/backend-data': '{"VNI":1,"VtepMAC":"0e:aa:bb:cc:dd:ee"}', 'flannel.alpha.coreos.com/public-ip': '172.30.0.2' })],
    ['another backend', node('a', '10.244.1.0/24', { ...renderLeaseAnnotations(lease), 'weft.dev/backend-type': 'host-gw' })],
    ['corrupt backend data', node('a', '10.244.1.0/24', { ...renderLeaseAnnotations(lease), 'weft.dev/backend-data': '{"VNI":1,' })],
    ['a bad public IP', node('a', '10.244.1.0/24', { ...renderLeaseAnnotations(lease), 'weft.dev/public-ip': 'node-a' })],
  ])('gives no lease for a Node with %s', (_, n) => {
    expect(nodeLease(n)).toBeUndefined();
  });

  it('lists the leases of usable Nodes inside the network, keyed by subnet', () => {
    const other = { ...lease, subnet: parseIpv4Cidr('10.244.2.0/24')!, publicIp: '172.30.0.3', vtepMac: '0e:aa:bb:cc:dd:01' };
    const outside = { ...lease, subnet: parseIpv4Cidr('10.99.0.0/24')! };
    const leases = leasesFromNodes(
      [node('a', '10.244.1.0/24', renderLeaseAnnotations(lease)), node('b', '10.244.2.0/24', renderLeaseAnnotations(other)), node('c', '10.99.0.0/24', renderLeaseAnnotations(outside)), node('d', undefined)],
      network,
    );
    expect([...leases.keys()]).toEqual(['10.244.1.0/24', '10.244.2.0/24']);
    expect(leases.get('10.244.2.0/24')).toEqual(other);
  });

  it('patches only the annotations that differ, and nothing when the Node is up to date', () => {
    const current = { ...renderLeaseAnnotations(lease), 'weft.dev/backend-data': '{"VNI":1,"VtepMAC":"0e:00:00:00:00:01"}', 'node.alpha.kubernetes.io/ttl': '0' };
    expect(renderAnnotationPatch(node('a', '10.244.1.0/24', current), lease)).toEqual({ metadata: { annotations: { 'weft.dev/backend-data': '{"VNI":1,"VtepMAC":"0e:aa:bb:cc:dd:ee"}' } } });
    expect(renderAnnotationPatch(node('a', '10.244.1.0/24', renderLeaseAnnotations(lease)), lease)).toBeUndefined();
    expect(Object.keys(renderAnnotationPatch(node('a', '10.244.1.0/24'), lease)!.metadata.annotations)).toHaveLength(4);
  });

  it('refuses a podCIDR outside the network, or wider than it', () => {
    expect(podCidrProblem(parseIpv4Cidr('10.244.7.0/24')!, network)).toBeUndefined();
    expect(podCidrProblem(parseIpv4Cidr('10.99.0.0/24')!, network)).toMatch(/podCIDR "10\.99\.0\.0\/24" is outside the network "10\.244\.0\.0\/16"/);
    expect(podCidrProblem(parseIpv4Cidr('10.0.0.0/8')!, network)).toMatch(/outside/);
  });
});
