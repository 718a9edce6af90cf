import { describe, expect, it } from 'vitest';
import { mergeEntry, removeEntry, userKubeconfigPath } from '../../../lab/kube/user-kubeconfig.ts';

const entry = { name: 'weft-lab', server: 'https://127.0.0.1:40000', caData: 'Q0E=', certData: 'Q0VSVA==', keyData: 'S0VZ' };
const existing = {
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: 'prod', cluster: { server: 'https://prod' } }, { name: 'weft-lab', cluster: { server: 'https://old' } }],
  users: [{ name: 'prod', user: { token: 't' } }],
  contexts: [{ name: 'prod', context: { cluster: 'prod', user: 'prod' } }],
  'current-context': 'prod',
  preferences: { colors: true },
};

describe("the lab's entry in the user's kubeconfig", () => {
  it("adds the lab's cluster, user and context, makes it current and keeps everything else", () => {
    const merged = mergeEntry(existing, entry);
    expect(merged['current-context']).toBe('weft-lab');
    expect(merged.clusters).toEqual([{ name: 'prod', cluster: { server: 'https://prod' } }, { name: 'weft-lab', cluster: { server: entry.server, 'certificate-authority-data': 'Q0E=' } }]);
    expect(merged.users).toContainEqual({ name: 'prod', user: { token: 't' } });
    expect(merged.contexts).toContainEqual({ name: 'weft-lab', context: { cluster: 'weft-lab', user: 'weft-lab' } });
    expect(merged.preferences).toEqual({ colors: true });
  });

  it('starts a kubeconfig from nothing', () => {
    const merged = mergeEntry(undefined, entry);
    expect(merged).toMatchObject({ apiVersion: 'v1', kind: 'Config', 'current-context': 'weft-lab' });
    expect(merged.users).toEqual([{ name: 'weft-lab', user: { 'client-certificate-data': 'Q0VSVA==', 'client-key-data': 'S0VZ' } }]);
  });

  it('removes only its own entries, and gives back the context that was current before the lab', () => {
    const removed = removeEntry(mergeEntry(existing, entry), 'weft-lab', 'prod');
    expect(removed.clusters).toEqual([{ name: 'prod', cluster: { server: 'https://prod' } }]);
    expect(removed.contexts).toEqual(existing.contexts);
    expect(removed['current-context']).toBe('prod');
    // The user switched away from the lab meanwhile: their choice stays.
    expect(removeEntry({ ...mergeEntry(existing, entry), 'current-context': 'prod' }, 'weft-lab', 'gone')['current-context']).toBe('prod');
    // The previous context was deleted meanwhile: none is current.
    expect(removeEntry(mergeEntry(existing, entry), 'weft-lab', 'gone')['current-context']).toBeUndefined();
  });

  it('writes where kubectl writes: the first KUBECONFIG entry, else ~/.kube/config', () => {
    expect(userKubeconfigPath({ KUBECONFIG: '/a:/b' })).toBe('/a');
    expect(userKubeconfigPath({ KUBECONFIG: '' })).toMatch(/\/\.kube\/config$/);
    expect(userKubeconfigPath({})).toMatch(/\/\.kube\/config$/);
  });
});
