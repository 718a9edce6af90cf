import type { Request } from '../../../plugins/cni/request.ts';

export function request(extra: Partial<Request> = {}): Request {
  return { command: 'ADD', containerId: 'c1', ifname: 'eth0', netns: '/var/run/netns/x', args: new Map(), path: ['/opt/cni/bin'], depth: 0, ...extra };
}
