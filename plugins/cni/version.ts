import { CniError, ErrorCode } from './errors.ts';

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export const CURRENT_VERSION = '1.1.0';

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function isSupportedVersion(version: string): boolean {
  return (SUPPORTED_VERSIONS as readonly string[]).includes(version);
}

/** CHECK arrived in 0.4.0; STATUS and GC in 1.1.0. */
export function assertVerbSupported(verb: string, version: string): void {
  const since = verb === 'CHECK' ? '0.4.0' : verb === 'STATUS' || verb === 'GC' ? '1.1.0' : '0.1.0';
  if (compareVersions(version, since) < 0) {
    throw new CniError(ErrorCode.IncompatibleVersion, `config version "${version}" does not allow ${verb}`, {
      details: `${verb} needs cniVersion ${since} or later`,
    });
  }
}
