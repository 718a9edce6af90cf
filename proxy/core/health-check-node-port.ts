import type { Logger } from '../../lib/log.ts';
import { listenHttp, type HttpListener, type HttpResponse } from '../../lib/http-listener.ts';
import type { Service } from './objects.ts';
import type { ServicePortState } from './state.ts';

// healthCheckNodePort: for a Service with externalTrafficPolicy Local, the port a load balancer probes
// to learn whether this node has endpoints of it. As kube-proxy: 200 with a count when it has, 503 when
// not. Which ports to serve is decided purely; one HTTP listener per port applies that.

export interface HealthCheckTarget {
  readonly namespace: string;
  readonly name: string;
  readonly localEndpoints: number;
}

/** The port a Service's health is probed on and what it answers; local endpoints counted by address across its ports. */
export function healthCheckTarget(service: Service | undefined, ports: readonly ServicePortState[]): [number, HealthCheckTarget] | undefined {
  if (service?.healthCheckNodePort === undefined || !service.externalTrafficLocal) return undefined;
  const local = new Set(ports.flatMap((sp) => sp.localEndpoints.map((e) => e.ip)));
  return [service.healthCheckNodePort, { namespace: service.namespace, name: service.name, localEndpoints: local.size }];
}

export function healthCheckResponse(target: HealthCheckTarget, proxyHealthy: boolean): HttpResponse {
  const body = { service: { namespace: target.namespace, name: target.name }, localEndpoints: target.localEndpoints, serviceProxyHealthy: proxyHealthy };
  return { status: target.localEndpoints > 0 && proxyHealthy ? 200 : 503, contentType: 'application/json', body: JSON.stringify(body) };
}

/** Keeps one listener per wanted port; answers always read the latest targets. */
export class HealthCheckServers {
  readonly #listeners = new Map<number, Promise<HttpListener | undefined>>();
  #targets: ReadonlyMap<number, HealthCheckTarget> = new Map();
  readonly #host: string;
  readonly #log: Logger;
  readonly #proxyHealthy: () => boolean;

  constructor(options: { host: string; log: Logger; proxyHealthy: () => boolean }) {
    this.#host = options.host;
    this.#log = options.log;
    this.#proxyHealthy = options.proxyHealthy;
  }

  update(targets: ReadonlyMap<number, HealthCheckTarget>): void {
    this.#targets = targets;
    for (const port of targets.keys()) {
      if (this.#listeners.has(port)) continue;
      const listener = listenHttp(this.#host, port, () => {
        const target = this.#targets.get(port);
        return target ? healthCheckResponse(target, this.#proxyHealthy()) : { status: 503, contentType: 'text/plain', body: 'no service\n' };
      }).catch((error: unknown) => {
        this.#log.error('cannot serve healthCheckNodePort', { port, error });
        this.#listeners.delete(port);
        return undefined;
      });
      this.#listeners.set(port, listener);
    }
    for (const [port, listener] of this.#listeners) {
      if (targets.has(port)) continue;
      this.#listeners.delete(port);
      void listener.then((l) => l?.close());
    }
  }

  async close(): Promise<void> {
    const all = [...this.#listeners.values()];
    this.#listeners.clear();
    await Promise.all(all.map(async (l) => (await l)?.close()));
  }
}
