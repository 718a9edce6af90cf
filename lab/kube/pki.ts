import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runChecked } from '../../lib/exec.ts';

// Certificates for a control plane, made with openssl: P-256 keys (fast to generate), valid for two days
// (tests) or as long as the caller says (a lab cluster a user keeps), every file 0600 inside a directory the
// caller created 0700.

export interface KeyPair {
  cert: string;
  key: string;
}

export interface CertRequest {
  /** File stem inside the PKI directory: [a-z0-9-]. */
  name: string;
  commonName: string;
  organization?: string;
  usage: 'server' | 'client';
  /** Subject alternative names for a serving certificate: IP addresses or DNS names. */
  altNames?: readonly string[];
}

const FILE_STEM = /^[a-z0-9][a-z0-9-]{0,62}$/;
// Subject values go into openssl's "/CN=.../O=..." syntax, where "/" "=" and "+" are separators.
const SUBJECT_VALUE = /^[A-Za-z0-9:._@ -]{1,64}$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const DEFAULT_DAYS = 2;
const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
// An empty config, so the distribution's defaults add no extensions of their own (v3_ca marks every cert a CA).
const MINIMAL_CONFIG = '[req]\ndistinguished_name = dn\n[dn]\n';

function checkedStem(name: string): string {
  if (!FILE_STEM.test(name)) throw new Error(`cannot name a certificate file: "${name}" is not [a-z0-9-]`);
  return name;
}

export function subject(commonName: string, organization?: string): string {
  for (const value of [commonName, organization ?? 'x']) {
    if (!SUBJECT_VALUE.test(value)) throw new Error(`cannot build a certificate subject: "${value}" has characters openssl would split on`);
  }
  return `/CN=${commonName}${organization ? `/O=${organization}` : ''}`;
}

export function subjectAltName(names: readonly string[]): string {
  return names.map((n) => (IPV4.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
}

/** openssl req arguments issuing one leaf certificate signed by `ca`. */
export function leafCertArgs(config: string, ca: KeyPair, request: CertRequest, out: KeyPair, days = DEFAULT_DAYS): string[] {
  const usage = request.usage === 'server' ? 'serverAuth' : 'clientAuth';
  const sans = request.altNames?.length ? ['-addext', `subjectAltName=${subjectAltName(request.altNames)}`] : [];
  return [
    'req', '-config', config, '-x509', '-CA', ca.cert, '-CAkey', ca.key, ...KEY_ARGS,
    '-keyout', out.key, '-out', out.cert, '-days', String(days), '-subj', subject(request.commonName, request.organization),
    '-addext', 'basicConstraints=critical,CA:FALSE',
    '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment',
    '-addext', `extendedKeyUsage=${usage}`,
    ...sans,
  ];
}

/** A PKI directory: one CA, leaf certificates and bare key pairs issued into it. */
export class Pki {
  readonly dir: string;
  readonly ca: KeyPair;
  private readonly config: string;
  private readonly days: number;

  private constructor(dir: string, days: number) {
    this.dir = dir;
    this.days = days;
    this.ca = this.paths('ca');
    this.config = join(dir, 'openssl.cnf');
  }

  static async create(dir: string, options: { days?: number } = {}): Promise<Pki> {
    const pki = new Pki(dir, options.days ?? DEFAULT_DAYS);
    writeFileSync(pki.config, MINIMAL_CONFIG, { mode: 0o600 });
    await runChecked('openssl', [
      'req', '-config', pki.config, '-x509', ...KEY_ARGS, '-keyout', pki.ca.key, '-out', pki.ca.cert, '-days', String(pki.days),
      '-subj', subject('weft-test-ca'),
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ]);
    pki.restrict(pki.ca);
    return pki;
  }

  async issue(request: CertRequest): Promise<KeyPair> {
    const out = this.paths(request.name);
    await runChecked('openssl', leafCertArgs(this.config, this.ca, request, out, this.days));
    this.restrict(out);
    return out;
  }

  /** A bare key pair (the service-account signing key): `cert` holds the public key. */
  async keyPair(name: string): Promise<KeyPair> {
    const out = { key: join(this.dir, `${checkedStem(name)}.key`), cert: join(this.dir, `${name}.pub`) };
    await runChecked('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', out.key]);
    await runChecked('openssl', ['pkey', '-in', out.key, '-pubout', '-out', out.cert]);
    this.restrict(out);
    return out;
  }

  private paths(name: string): KeyPair {
    const stem = checkedStem(name);
    return { cert: join(this.dir, `${stem}.crt`), key: join(this.dir, `${stem}.key`) };
  }

  private restrict(pair: KeyPair): void {
    chmodSync(pair.cert, 0o600);
    chmodSync(pair.key, 0o600);
  }
}
