import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';

// The lab's entry in the user's kubeconfig, as kind keeps its clusters there: one cluster, user and
// context of the same name, credentials embedded (the file stays valid wherever the lab's state lives),
// merged without touching other entries and removed again by cluster:down.

export interface KubeconfigEntry {
  name: string;
  server: string;
  caData: string;
  certData: string;
  keyData: string;
}

type Named = { name: string; [key: string]: unknown };
interface KubeconfigDoc {
  apiVersion?: string;
  kind?: string;
  clusters?: Named[] | null;
  users?: Named[] | null;
  contexts?: Named[] | null;
  'current-context'?: string;
  [key: string]: unknown;
}

const replaceNamed = <T extends Named>(list: T[] | null | undefined, entry: T): T[] => [...(list ?? []).filter((e) => e.name !== entry.name), entry];

/** A kubeconfig holding only the lab's entry. */
export function singleKubeconfig(entry: KubeconfigEntry): KubeconfigDoc {
  return mergeEntry(undefined, entry);
}

/** `doc` with the lab's cluster, user and context replaced or added, and the context made current. */
export function mergeEntry(doc: KubeconfigDoc | undefined, entry: KubeconfigEntry): KubeconfigDoc {
  const base: KubeconfigDoc = doc ?? { apiVersion: 'v1', kind: 'Config', preferences: {} };
  return {
    ...base,
    apiVersion: base.apiVersion ?? 'v1',
    kind: base.kind ?? 'Config',
    clusters: replaceNamed(base.clusters, { name: entry.name, cluster: { server: entry.server, 'certificate-authority-data': entry.caData } }),
    users: replaceNamed(base.users, { name: entry.name, user: { 'client-certificate-data': entry.certData, 'client-key-data': entry.keyData } }),
    contexts: replaceNamed(base.contexts, { name: entry.name, context: { cluster: entry.name, user: entry.name } }),
    'current-context': entry.name,
  };
}

/**
 * `doc` without the lab's entries. If the lab's context is current, the one that was current before the
 * lab's merge comes back (when it still exists); otherwise none is current.
 */
export function removeEntry(doc: KubeconfigDoc, name: string, previousContext?: string): KubeconfigDoc {
  const without = (list: Named[] | null | undefined) => (list ?? []).filter((e) => e.name !== name);
  const { 'current-context': current, ...rest } = doc;
  const contexts = without(doc.contexts);
  const restored = current === name ? (contexts.some((c) => c.name === previousContext) ? previousContext : undefined) : current;
  return {
    ...rest,
    clusters: without(doc.clusters),
    users: without(doc.users),
    contexts,
    ...(restored ? { 'current-context': restored } : {}),
  };
}

/** The context current in a kubeconfig, if any. */
export function currentContext(doc: KubeconfigDoc | undefined): string | undefined {
  return doc?.['current-context'] || undefined;
}

/** The file kubectl writes to: the first entry of $KUBECONFIG, else ~/.kube/config. */
export function userKubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const first = (env.KUBECONFIG ?? '').split(':').find((p) => p.length > 0);
  return first ?? join(homedir(), '.kube', 'config');
}

export function readKubeconfig(file: string): KubeconfigDoc | undefined {
  if (!existsSync(file)) return undefined;
  const doc = parse(readFileSync(file, 'utf8')) as KubeconfigDoc | null;
  if (doc !== null && (typeof doc !== 'object' || Array.isArray(doc))) throw new Error(`cannot read kubeconfig "${file}": it is not a mapping`);
  return doc ?? undefined;
}

/** Written 0600 and atomically: a crash never leaves the user's kubeconfig half-written. */
export function writeKubeconfigDoc(file: string, doc: KubeconfigDoc): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const partial = `${file}.weft-partial`;
  writeFileSync(partial, stringify(doc), { mode: 0o600 });
  chmodSync(partial, 0o600);
  renameSync(partial, file);
}
