import { main, type KubeSubnetManagerLoader } from '../weftd/main.ts';

// weftd's own bundle: the overlay daemon without the Kubernetes client, which is most of the daemons'
// bundle (about 45 kB against 2.3 MB). weftd with its leases in etcd starts without decoding, compiling
// or running that client (docs/PERFORMANCE.md); in kube mode the dispatcher hands over the loader of
// the kube subnet manager, which lives in the daemons' bundle. The build refuses this bundle if the
// client finds its way in (build/bundle.ts).

export const weftd = (argv: string[], loadKubeSubnetManager: KubeSubnetManagerLoader): Promise<number> => main(argv, { loadKubeSubnetManager });
