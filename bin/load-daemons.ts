// From source the daemons are plain imports; the build swaps this module for
// build/sea-load-daemons.ts, which evaluates the bundles embedded in the executable.
export type Daemons = typeof import('./daemons.ts');
export type OverlayDaemon = typeof import('./overlay-daemon.ts');

/** `proxy`: for weft-proxy, whose start the executable's code cache for it covers. */
export function loadDaemons(_options: { proxy?: boolean } = {}): Promise<Daemons> {
  return import('./daemons.ts');
}

export function loadOverlayDaemon(): Promise<OverlayDaemon> {
  return import('./overlay-daemon.ts');
}
