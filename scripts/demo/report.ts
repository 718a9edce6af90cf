// Pure formatting for the demo's output: headings, aligned tables, and etcd's lease listing.

export interface LeaseRow {
  subnet: string;
  publicIp: string;
  vtepMac: string;
}

export function heading(title: string): string {
  return `\n== ${title} ${'='.repeat(Math.max(3, 72 - title.length))}\n`;
}

/** Columns padded to the widest cell; the first row is the header. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => '  ' + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

/** Indents a command's output under the command line that produced it. */
export function commandOutput(command: string, output: string): string {
  const text = output.trimEnd();
  const body = text === '' ? '(nothing)' : text;
  return `  $ ${command}\n${body.split('\n').map((line) => `    ${line}`).join('\n')}\n`;
}

/** The leases in `etcdctl get --prefix <prefix>/subnets/ -w json` output, sorted by subnet. */
export function parseLeaseListing(json: string, prefix: string): LeaseRow[] {
  const reply = JSON.parse(json) as { kvs?: { key: string; value: string }[] };
  const decode = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');
  return (reply.kvs ?? [])
    .map((kv) => {
      const key = decode(kv.key);
      const value = JSON.parse(decode(kv.value)) as { PublicIP?: string; BackendData?: { VtepMAC?: string } };
      return { subnet: key.slice(`${prefix}/subnets/`.length).replace('-', '/'), publicIp: value.PublicIP ?? '?', vtepMac: value.BackendData?.VtepMAC ?? '?' };
    })
    .sort((a, b) => a.subnet.localeCompare(b.subnet, 'en', { numeric: true }));
}
