import { describe, expect, it } from 'vitest';
import { renderNetworkAvailablePatch } from '../../../weftd/subnet/node-condition.ts';

const now = new Date('2026-03-01T10:00:00.123Z');

describe('renderNetworkAvailablePatch', () => {
  it('sets NetworkUnavailable to False in weft\'s words, as flanneld does in its own', () => {
    expect(renderNetworkAvailablePatch({ status: { conditions: [{ type: 'Ready', status: 'False' }] } }, now)).toEqual({
      status: {
        conditions: [
          { type: 'NetworkUnavailable', status: 'False', reason: 'WeftIsUp', message: 'weft is running on this node', lastTransitionTime: '2026-03-01T10:00:00Z', lastHeartbeatTime: '2026-03-01T10:00:00Z' },
        ],
      },
    });
  });

  it('replaces a True condition and another plugin\'s False one', () => {
    expect(renderNetworkAvailablePatch({ status: { conditions: [{ type: 'NetworkUnavailable', status: 'True', reason: 'NoRouteCreated' }] } }, now)).toBeDefined();
    expect(renderNetworkAvailablePatch({ status: { conditions: [{ type: 'NetworkUnavailable', status: 'False', reason: 'FlannelIsUp' }] } }, now)).toBeDefined();
  });

  it('writes nothing when the Node already says weft is up', () => {
    expect(renderNetworkAvailablePatch({ status: { conditions: [{ type: 'NetworkUnavailable', status: 'False', reason: 'WeftIsUp' }] } }, now)).toBeUndefined();
  });
});
