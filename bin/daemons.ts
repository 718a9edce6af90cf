// The long-running commands. They carry the Kubernetes client (~2 MB bundled), so the single
// executable keeps them in a separate bundle that the CNI plugins never load (see load-daemons.ts).
export { main as weftProxy } from '../proxy/main.ts';
export { main as weftd } from '../plugins/vxlan/main-weftd.ts';
