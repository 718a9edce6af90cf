import type { V1Pod, V1Service } from '@kubernetes/client-node';

// The objects the e2e cases create, as plain manifests: agnhost (the upstream e2e image) serving
// netexec, which answers /hostname and /clientip over HTTP and "hostname" over UDP, and relays requests
// with /dial; Services in front of them; node-level helper Pods.

export const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.56';
export const HTTP_PORT = 8080;
export const UDP_PORT = 8081;
/** Long enough for every proxy on every node to drop a terminating endpoint before it stops serving. */
const SHUTDOWN_DELAY_S = 5;

export interface PodOptions {
  labels?: Record<string, string>;
  nodeName?: string;
  hostNetwork?: boolean;
  /** netexec's ports (a host-network Pod must not take the node's 8080). */
  httpPort?: number;
  udpPort?: number;
  hostPort?: number;
}

/** netexec on httpPort/udpPort; keeps serving a few seconds after SIGTERM, as a well-behaved server does. */
export function netexecContainer(options: PodOptions = {}) {
  const httpPort = options.httpPort ?? HTTP_PORT;
  const udpPort = options.udpPort ?? UDP_PORT;
  return {
    name: 'netexec',
    image: AGNHOST,
    imagePullPolicy: 'IfNotPresent',
    args: ['netexec', `--http-port=${httpPort}`, `--udp-port=${udpPort}`, `--delay-shutdown=${SHUTDOWN_DELAY_S}`],
    ports: [
      { name: 'http', containerPort: httpPort, protocol: 'TCP', ...(options.hostPort ? { hostPort: options.hostPort } : {}) },
      { name: 'udp', containerPort: udpPort, protocol: 'UDP' },
    ],
    readinessProbe: { httpGet: { path: '/healthz', port: httpPort }, periodSeconds: 1 },
  };
}

export function netexecPod(name: string, options: PodOptions = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: options.labels ?? {} },
    spec: {
      ...(options.nodeName ? { nodeName: options.nodeName } : {}),
      ...(options.hostNetwork ? { hostNetwork: true } : {}),
      terminationGracePeriodSeconds: SHUTDOWN_DELAY_S + 5,
      containers: [netexecContainer(options)],
    },
  } as V1Pod;
}

/**
 * A privileged host-network Pod that reads a node's network state: its links and host-local's allocations
 * (the node's /var/lib/cni, read-only).
 */
export function inspectorPod(name: string, nodeName: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      nodeName,
      hostNetwork: true,
      tolerations: [{ operator: 'Exists' }],
      containers: [{
        name: 'inspect',
        image: AGNHOST,
        imagePullPolicy: 'IfNotPresent',
        args: ['pause'],
        securityContext: { privileged: true },
        volumeMounts: [{ name: 'cni-state', mountPath: '/host/var/lib/cni', readOnly: true }],
      }],
      volumes: [{ name: 'cni-state', hostPath: { path: '/var/lib/cni', type: 'DirectoryOrCreate' } }],
    },
  } as V1Pod;
}

export interface ServicePort {
  name: string;
  port: number;
  targetPort: number;
  protocol?: 'TCP' | 'UDP';
  nodePort?: number;
}

export function service(name: string, selector: Record<string, string>, ports: readonly ServicePort[], extra: Partial<NonNullable<V1Service['spec']>> = {}): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { selector, ports: ports.map((p) => ({ protocol: 'TCP', ...p })), ...extra },
  } as V1Service;
}

/** The Deployment a scaling case drives: netexec Pods behind `labels`. */
export function netexecDeployment(name: string, labels: Record<string, string>, replicas: number) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { terminationGracePeriodSeconds: SHUTDOWN_DELAY_S + 5, containers: [netexecContainer()] } },
    },
  };
}

/**
 * A shell loop for a client Pod: `count` HTTP requests at most, one every 100 ms, until /tmp/stop exists;
 * prints one line per request ("ok <hostname>" or "FAIL <curl exit>") and nothing else.
 */
export function requestLoop(url: string, count: number): string {
  return [
    'i=0',
    `while [ $i -lt ${count} ] && [ ! -f /tmp/stop ]; do`,
    '  i=$((i+1))',
    `  out=$(curl -sS --max-time 2 --connect-timeout 1 ${url} 2>/dev/null); rc=$?`,
    '  if [ $rc -eq 0 ]; then echo "ok $out"; else echo "FAIL $rc"; fi',
    '  sleep 0.1',
    'done',
  ].join('\n');
}

/** What a request loop printed: requests, failures and the hostnames that answered. */
export function summarizeLoop(output: string): { requests: number; failures: string[]; hostnames: Set<string> } {
  const lines = output.split('\n').filter((l) => l.startsWith('ok ') || l.startsWith('FAIL '));
  return {
    requests: lines.length,
    failures: lines.filter((l) => l.startsWith('FAIL ')),
    hostnames: new Set(lines.filter((l) => l.startsWith('ok ')).map((l) => l.slice(3).trim())),
  };
}
