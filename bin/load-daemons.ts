// From source the daemons are a plain import; the build swaps this module for
// build/sea-load-daemons.ts, which evaluates the daemons' bundle embedded in the executable.
export type Daemons = typeof import('./daemons.ts');

export function loadDaemons(): Promise<Daemons> {
  return import('./daemons.ts');
}
