import { describe, expect, it } from 'vitest';
import { splitListing } from '../../../bench/netns-listing.ts';

describe('a repeated listing read from one stream', () => {
  const END = '\n@@weft-bench-listing-end@@\n';

  it('is incomplete until its end mark has arrived whole', () => {
    expect(splitListing('table ip weft {\n')).toBeUndefined();
    expect(splitListing('table ip weft {\n}\n@@weft-bench-list')).toBeUndefined();
  });

  it('splits the first listing from whatever followed it', () => {
    expect(splitListing(`table ip weft {\n}${END}-A KUBE${END}`)).toEqual({ listing: 'table ip weft {\n}', rest: `-A KUBE${END}` });
  });

  it('gives an empty listing for a command that printed nothing (a chain not there yet)', () => {
    expect(splitListing(END)).toEqual({ listing: '', rest: '' });
  });
});
