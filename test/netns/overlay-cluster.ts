import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { weftCommand } from '../../lab/commands.ts';
import type { LabSettings } from '../../lab/underlay.ts';
import { mixedBinDir } from '../support/cni.ts';
import { RUN_ID, type NetnsScope } from '../support/netns.ts';

// The lab (lab/) as the overlay tests and bench/overlay.ts use it: this run's id and namespaces, weftd
// and the plugins from the build when WEFT_BIN_DIR names one (else the sources), and the delegate
// under test: weft's bridge + host-local, or the reference ones with WEFT_OVERLAY_DELEGATE=reference.
// The owner removes settings.workDir after cleaning up the scope.

export function testLabSettings(scope: NetnsScope): LabSettings {
  const workDir = mkdtempSync(join(tmpdir(), 'weft-lab-'));
  return {
    id: RUN_ID,
    scope,
    workDir,
    weftd: weftCommand('weftd', process.env.WEFT_BIN_DIR),
    cniBinDir: mixedBinDir(workDir),
    cniVersion: '1.0.0',
    ...(process.env.WEFT_OVERLAY_DELEGATE === 'reference' ? { delegate: { type: 'bridge', ipam: { type: 'host-local' } } } : {}),
  };
}
