import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Netns } from './netns.ts';

/**
 * Serves http://IP:port/cgi-bin/peer (busybox httpd, inside `ns`), which answers the client address the
 * server saw: how one tells a masqueraded source from a kept one. The served directory is made in
 * workDir and returned.
 */
export async function serveClientAddress(ns: Netns, options: { port: number; workDir: string }): Promise<string> {
  const dir = mkdtempSync(join(options.workDir, 'peer-'));
  mkdirSync(join(dir, 'cgi-bin'), { mode: 0o700 });
  // httpd listens on IPv6 too and reports IPv4 clients as [::ffff:a.b.c.d]: answer the plain address.
  const script = `#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\necho "$REMOTE_ADDR" | sed 's/^\\[::ffff://; s/\\]$//'\n`;
  writeFileSync(join(dir, 'cgi-bin/peer'), script, { mode: 0o700 });
  await ns.exec('busybox', ['httpd', '-p', String(options.port), '-h', dir]);
  return dir;
}
