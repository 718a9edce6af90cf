import { afterAll, describe, expect, it } from 'vitest';
import { RepeatedListing } from '../../bench/netns-listing.ts';
import { NetnsScope } from '../support/netns.ts';

// The benchmark's polls (bench/netns-listing.ts): one shell in a node namespace runs a listing each
// time it is asked, and each answer is that run's output, whatever changed in the namespace between.

describe('a listing repeated by one shell in a namespace', () => {
  const scope = new NetnsScope();
  afterAll(() => scope.cleanup());

  it('answers each request with a fresh listing of that namespace', async () => {
    const node = await scope.create('bl1');
    const listing = new RepeatedListing(node.path, ['nft', 'list', 'chains']);
    try {
      expect(await listing.list()).toBe('');
      await node.exec('nft', ['add table ip weft; add chain ip weft prerouting { type nat hook prerouting priority dstnat; }']);
      expect(await listing.list()).toMatch(/table ip weft \{\n\tchain prerouting \{\n\t\ttype nat hook prerouting/);
      await node.exec('nft', ['delete', 'table', 'ip', 'weft']);
      expect(await listing.list()).toBe('');
    } finally {
      await listing.close();
    }
  });

  it('gives nothing for a command that fails (a chain not made yet), and goes on answering', async () => {
    const node = await scope.create('bl2');
    const listing = new RepeatedListing(node.path, ['iptables-legacy', '-w', '-t', 'nat', '-S', 'WEFT-NOT-YET']);
    try {
      expect(await listing.list()).toBe('');
      await node.exec('iptables-legacy', ['-w', '-t', 'nat', '-N', 'WEFT-NOT-YET']);
      expect(await listing.list()).toBe('-N WEFT-NOT-YET\n');
    } finally {
      await listing.close();
    }
  });
});
