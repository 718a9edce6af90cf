import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { delegateFileName, listDelegates, loadDelegate, saveDelegate } from '../../../plugins/vxlan/delegate-store.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-vxlan-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('delegate store', () => {
  it('keeps container "a--b" with interface "c" apart from container "a" with interface "b--c"', () => {
    expect(delegateFileName('a--b', 'c')).not.toBe(delegateFileName('a', 'b--c'));
    saveDelegate(dir, { containerId: 'a--b', ifname: 'c', conf: { which: 1 } });
    saveDelegate(dir, { containerId: 'a', ifname: 'b--c', conf: { which: 2 } });
    expect(loadDelegate(dir, 'a--b', 'c')).toEqual({ state: 'stored', stored: { containerId: 'a--b', ifname: 'c', conf: { which: 1 } } });
    expect(loadDelegate(dir, 'a', 'b--c')).toEqual({ state: 'stored', stored: { containerId: 'a', ifname: 'b--c', conf: { which: 2 } } });
    expect(listDelegates(dir)).toHaveLength(2);
  });

  it('reports a damaged file as unreadable instead of throwing, and a missing one as absent', () => {
    writeFileSync(join(dir, delegateFileName('c1', 'eth0')), '{"containerId": "c1", "ifn');
    expect(loadDelegate(dir, 'c1', 'eth0')).toMatchObject({ state: 'unreadable' });
    expect(loadDelegate(dir, 'c2', 'eth0')).toEqual({ state: 'absent' });
  });
});
