// The commands that carry the Kubernetes client (most of the daemons' bundle): weft-proxy, the
// troubleshooting commands and weftd's kube subnet manager. The single executable keeps them in a
// bundle that the CNI plugins and an etcd-mode weftd never load (see load-daemons.ts), and each
// command's modules are initialized only when it runs.

type Main = (argv: string[]) => Promise<number>;

export const weftProxy: Main = async (argv) => (await import('../proxy/main.ts')).main(argv);
/** weftd's kube mode: the kube subnet manager, handed to weftd's own bundle (bin/overlay-daemon.ts). */
export const loadKubeSubnetManager = async () => (await import('../weftd/subnet/kube-subnet-manager.ts')).createKubeSubnetManager;
export const explain: Main = async (argv) => (await import('../troubleshoot/cli/explain-command.ts')).main(argv);
export const doctor: Main = async (argv) => (await import('../troubleshoot/cli/doctor-command.ts')).main(argv);
export const probeSend: Main = async (argv) => (await import('../troubleshoot/cli/probe-send-command.ts')).main(argv);
/**
 * Initializes weft-proxy's modules (the Kubernetes client's among them) without starting anything. The
 * build runs it before taking V8's code cache of this bundle (build/code-cache.ts), so the cache holds
 * the compiled form of what every proxy start runs instead of only the bundle's top level.
 */
export const initializeProxyModules = async (): Promise<void> => {
  await import('../proxy/main.ts');
  await import('../proxy/daemon.ts');
};
export const kubectlWeft: Main = async (argv) => (await import('../troubleshoot/kubectl/plugin.ts')).main(argv);
