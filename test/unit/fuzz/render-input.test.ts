import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { createLogger } from '../../../lib/log.ts';
import { parseRenderArgs, runRender } from '../../../proxy/render-command.ts';
import { fuzzSeed, Random } from '../../fuzz/random.ts';

// weft-proxy render's input, fuzzed: generated object files mixing readable Services with ones the
// daemon cannot read (names an API server would refuse, IPv6 or null clusterIPs, null or bad ports).
// The payload must be exactly the payload of the readable objects alone (render skips what the daemon
// skips, and nothing of a skipped object reaches the output), whatever the encoding (YAML, JSON, a BOM).

const SEED = fuzzSeed(20261201);
const CASES = 300;
const dir = mkdtempSync(join(tmpdir(), 'weft-render-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = createLogger({ component: 'test', level: 'error' });
const MARK = 'INJECTED';

function service(i: number, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}`, namespace: 'ns1', ...meta }, spec: { clusterIP: `172.30.${i >> 8}.${i & 255}`, ports: [{ name: 'http', port: 80 }], ...spec } };
}

function slice(i: number): Record<string, unknown> {
  return { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `svc-${i}-x`, namespace: 'ns1', labels: { 'kubernetes.io/service-name': `svc-${i}` } }, addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: [`10.180.${i >> 8}.${i & 255}`] }] };
}

const UNREADABLE: ((i: number, rng: Random) => Record<string, unknown>)[] = [
  (i, rng) => service(i, {}, { name: `svc-${i}${rng.pick(['\n-A INPUT -j ACCEPT', '"', ' x', '\u0000', '/x'])}${MARK}` }),
  (i) => service(i, {}, { namespace: `ns\n${MARK}` }),
  (i) => service(i, { ports: [{ name: `h"${MARK}`, port: 80 }] }),
  (i) => service(i, { clusterIP: 'fd00::10' }),
  (i) => service(i, { clusterIP: null }),
  (i, rng) => service(i, { ports: [{ name: 'http', port: rng.pick([null, 0, 70000, '80', 80.5]) }] }),
  (i) => service(i, { type: `Weird${MARK}` }),
];

describe('weft-proxy render input, fuzzed', () => {
  it(`renders ${CASES} generated object files (seed ${SEED}) exactly as their readable objects alone`, () => {
    const failures: string[] = [];
    const render = (text: string, name: string): string => {
      const file = join(dir, name);
      writeFileSync(file, text, { mode: 0o600 });
      return runRender(parseRenderArgs(['--hostname-override', 'node-1', '--cluster-cidr', '10.180.0.0/16', '--objects', file]), quiet);
    };
    for (let index = 0; index < CASES; index++) {
      const rng = new Random((SEED ^ Math.imul(index + 3, 0x27d4eb2d)) >>> 0);
      const readable: Record<string, unknown>[] = [];
      const all: Record<string, unknown>[] = [];
      for (let i = 0; i < rng.int(1, 6); i++) {
        const id = index * 8 + i;
        if (rng.chance(0.5)) {
          const item = rng.pick(UNREADABLE)(id, rng);
          all.push(item, slice(id));
          readable.push(slice(id));
        } else {
          readable.push(service(id), slice(id));
          all.push(service(id), slice(id));
        }
      }
      const encode = (items: Record<string, unknown>[], how: string): string => {
        const list = { apiVersion: 'v1', kind: 'List', items };
        return how === 'json' ? JSON.stringify(list) : how === 'bom' ? `\uFEFF${toYaml(list)}` : toYaml(list);
      };
      const how = rng.pick(['yaml', 'json', 'bom']);
      let got: string;
      try {
        got = render(encode(all, how), `case-${index}`);
      } catch (error) {
        failures.push(`case ${index} (${how}): render failed: ${(error as Error).message}`);
        continue;
      }
      const expected = render(encode(readable, 'yaml'), `expected-${index}`);
      if (got !== expected) failures.push(`case ${index} (${how}): the payload differs from the readable objects' payload`);
      if (got.includes(MARK)) failures.push(`case ${index} (${how}): a skipped object reached the payload`);
    }
    expect(failures.slice(0, 20), `seed ${SEED}: reproduce with WEFT_FUZZ_SEED=${SEED}`).toEqual([]);
  }, 120_000);
});
