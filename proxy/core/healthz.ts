import type { HttpResponse } from '../../lib/http-listener.ts';

// /healthz and /livez as kube-proxy answers them: healthy once rules were synced, and only while
// changes do not wait longer than the timeout (kube-proxy: twice the sync period) and the last
// successful sync is not older than it. Pure: the record and the clock in, the response out.

export interface HealthRecord {
  /** When the last successful sync ended (ms). */
  readonly lastSuccessAt?: number;
  /** When the oldest change not yet applied arrived (ms). */
  readonly pendingSince?: number;
}

export function isHealthy(record: HealthRecord, now: number, timeoutMs: number): boolean {
  if (record.lastSuccessAt === undefined) return false;
  if (record.pendingSince !== undefined && now - record.pendingSince > timeoutMs) return false;
  return now - record.lastSuccessAt <= timeoutMs;
}

export function healthResponse(path: string, record: HealthRecord, options: { now: number; timeoutMs: number }): HttpResponse | undefined {
  if (path !== '/healthz' && path !== '/livez') return undefined;
  const healthy = isHealthy(record, options.now, options.timeoutMs);
  const body = {
    lastUpdated: new Date(record.lastSuccessAt ?? 0).toISOString(),
    currentTime: new Date(options.now).toISOString(),
    ...(path === '/healthz' ? { nodeEligible: true } : {}),
    healthy,
  };
  return { status: healthy ? 200 : 503, contentType: 'application/json', body: JSON.stringify(body) };
}
