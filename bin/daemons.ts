// The commands that carry the Kubernetes client (~2 MB bundled): the daemons and the troubleshooting
// commands. The single executable keeps them in a separate bundle that the CNI plugins never load
// (see load-daemons.ts).
export { main as weftProxy } from '../proxy/main.ts';
export { main as weftd } from '../plugins/vxlan/main-weftd.ts';
export { main as explain } from '../troubleshoot/cli/explain-command.ts';
export { main as doctor } from '../troubleshoot/cli/doctor-command.ts';
export { main as probeSend } from '../troubleshoot/cli/probe-send-command.ts';
export { main as kubectlWeft } from '../troubleshoot/kubectl/plugin.ts';
