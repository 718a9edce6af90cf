// Run inside a node namespace by proxy-daemon.test.ts: lists Services and EndpointSlices as weft-proxy
// does (its informers, protobuf lists) and again as JSON, and prints both as the proxy parses them, with
// the content type the server answers the proxy's kind of list request with. Usage: list-both-encodings.ts KUBECONFIG NODE
import { KubeConfig } from '@kubernetes/client-node';
import { apiGet, listWatch } from '../../lib/kube/list-watch.ts';
import { PROTOBUF_CONTENT_TYPE } from '../../lib/kube/protobuf.ts';
import { createLogger } from '../../lib/log.ts';
import { parseEndpointSlice, parseService, SERVICE_SELECTOR, SLICE_SELECTOR } from '../../proxy/core/objects.ts';
import { startInformers } from '../../proxy/informers.ts';

type Json = Record<string, unknown>;

const [kubeconfig, hostname] = process.argv.slice(2) as [string, string];
const config = new KubeConfig();
config.loadFromFile(kubeconfig);

const byKey = (objects: Json[], parse: (o: Json) => { namespace: string; name: string }) =>
  Object.fromEntries(objects.map(parse).map((o) => [`${o.namespace}/${o.name}`, o]));

async function viaInformers(): Promise<{ services: Json[]; slices: Json[] }> {
  const services: Json[] = [];
  const slices: Json[] = [];
  const informers = startInformers(config, {
    hostname,
    log: createLogger({ component: 'list-both-encodings' }),
    onEvent: (event) => {
      if (event.kind === 'Service') services.push(event.object);
      if (event.kind === 'EndpointSlice') slices.push(event.object);
    },
    onListed: () => {},
  });
  await informers.synced;
  await informers.stop();
  return { services, slices };
}

async function viaJson(path: string, labelSelector: string): Promise<Json[]> {
  const objects: Json[] = [];
  const watch = listWatch(config, { path, labelSelector }, { onObject: (_type, object) => objects.push(object), onListed: () => {}, onError: (error) => console.error(error) });
  await watch.listed;
  await watch.stop();
  return objects;
}

/** The content type the server answers a list asked for as the informers ask for it. */
async function contentType(path: string): Promise<string> {
  let answered = '';
  const open = (_status: number, type: string) => ((answered = type), { push: () => {} });
  await apiGet(config, `${config.getCurrentCluster()!.server}${path}?limit=1`, { accept: `${PROTOBUF_CONTENT_TYPE}, application/json`, open });
  return answered;
}

const informed = await viaInformers();
const json = { services: await viaJson('/api/v1/services', SERVICE_SELECTOR), slices: await viaJson('/apis/discovery.k8s.io/v1/endpointslices', SLICE_SELECTOR) };
console.log(
  JSON.stringify({
    contentTypes: [await contentType('/api/v1/services'), await contentType('/apis/discovery.k8s.io/v1/endpointslices')],
    protobuf: { services: byKey(informed.services, parseService), slices: byKey(informed.slices, parseEndpointSlice) },
    json: { services: byKey(json.services, parseService), slices: byKey(json.slices, parseEndpointSlice) },
  }),
);
