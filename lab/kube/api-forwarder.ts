import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type DaemonRecord } from './daemon-process.ts';
import { API_SERVER_PORT, type LabTopology } from './topology.ts';

// The API server as the machine reaches it: a port on the machine's 127.0.0.1 (as kind publishes its
// API server), forwarded by socat into the control-plane node's namespace. Nothing else of the machine's
// network changes: no interface, route or rule; each connection is relayed by a socat started inside the
// node's namespace.

/** The per-connection relay: stdio to the API server, from inside the control-plane node's namespace. */
export function renderConnectScript(topology: LabTopology): string {
  const cp = topology.controlPlane;
  return `#!/bin/sh\nexec nsenter --net=/var/run/netns/${cp.netns} -- socat STDIO TCP:${cp.ip}:${API_SERVER_PORT}\n`;
}

export function startApiForwarder(topology: LabTopology, port: number, logDir: string): DaemonRecord {
  const script = join(topology.stateDir, 'api-connect.sh');
  writeFileSync(script, renderConnectScript(topology), { mode: 0o700 });
  return startDaemon('api-forwarder', ['socat', `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`, `EXEC:${script}`], { log: join(logDir, 'api-forwarder.log') });
}
