// The commands that carry the Kubernetes client (most of the daemons' bundle): the daemons and the
// troubleshooting commands. The single executable keeps them in a separate bundle that the CNI plugins
// never load (see load-daemons.ts), and each command's modules are initialized only when it runs: weftd
// with its leases in etcd never initializes the Kubernetes client the proxy needs.

type Main = (argv: string[]) => Promise<number>;

export const weftProxy: Main = async (argv) => (await import('../proxy/main.ts')).main(argv);
/** weftd's kube mode: the kube subnet manager, handed to weftd's own bundle (bin/overlay-daemon.ts). */
export const loadKubeSubnetManager = async () => (await import('../weftd/subnet/kube-subnet-manager.ts')).createKubeSubnetManager;
export const explain: Main = async (argv) => (await import('../troubleshoot/cli/explain-command.ts')).main(argv);
export const doctor: Main = async (argv) => (await import('../troubleshoot/cli/doctor-command.ts')).main(argv);
export const probeSend: Main = async (argv) => (await import('../troubleshoot/cli/probe-send-command.ts')).main(argv);
export const kubectlWeft: Main = async (argv) => (await import('../troubleshoot/kubectl/plugin.ts')).main(argv);
