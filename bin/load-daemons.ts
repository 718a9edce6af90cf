// From source the daemons are plain imports; the build swaps this module for
// build/sea-load-daemons.ts, which evaluates the bundles embedded in the executable.
export type Daemons = typeof import('./daemons.ts');
export type OverlayDaemon = typeof import('./overlay-daemon.ts');

/** `proxy` picks, in the executable, the code cache that holds weft-proxy's start; from source it changes nothing. */
export function loadDaemons(_options: { proxy?: boolean } = {}): Promise<Daemons> {
  return import('./daemons.ts');
}

export function loadOverlayDaemon(): Promise<OverlayDaemon> {
  return import('./overlay-daemon.ts');
}
