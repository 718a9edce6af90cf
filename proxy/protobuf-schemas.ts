import type { MessageSchema } from '../lib/kube/protobuf.ts';

// The fields of Services and EndpointSlices that core/objects.ts reads, by their numbers in the API's
// protobuf definitions (k8s.io/api core/v1 and discovery/v1, k8s.io/apimachinery meta/v1). A field
// objects.ts starts to read must be named here too: the cluster test "protobuf lists" parses both
// encodings of the same objects and expects the same result.

const OBJECT_META: MessageSchema = { 1: ['name', 'string'], 3: ['namespace', 'sharedString'], 6: ['resourceVersion', 'string'], 11: ['labels', 'stringMap'] };

const SERVICE_PORT: MessageSchema = { 1: ['name', 'sharedString'], 2: ['protocol', 'sharedString'], 3: ['port', 'int32'], 5: ['nodePort', 'int32'] };

const SERVICE_SPEC: MessageSchema = {
  1: ['ports', [SERVICE_PORT]],
  3: ['clusterIP', 'string'],
  4: ['type', 'sharedString'],
  5: ['externalIPs', 'strings'],
  7: ['sessionAffinity', 'sharedString'],
  9: ['loadBalancerSourceRanges', 'strings'],
  11: ['externalTrafficPolicy', 'sharedString'],
  12: ['healthCheckNodePort', 'int32'],
  14: ['sessionAffinityConfig', { 1: ['clientIP', { 1: ['timeoutSeconds', 'int32'] }] }],
  22: ['internalTrafficPolicy', 'sharedString'],
};

const SERVICE_STATUS: MessageSchema = { 1: ['loadBalancer', { 1: ['ingress', [{ 1: ['ip', 'string'] }]] }] };

export const SERVICE: MessageSchema = { 1: ['metadata', OBJECT_META], 2: ['spec', SERVICE_SPEC], 3: ['status', SERVICE_STATUS] };

const ENDPOINT: MessageSchema = {
  1: ['addresses', 'strings'],
  2: ['conditions', { 1: ['ready', 'bool'], 2: ['serving', 'bool'], 3: ['terminating', 'bool'] }],
  6: ['nodeName', 'sharedString'],
};

export const ENDPOINT_SLICE: MessageSchema = {
  1: ['metadata', OBJECT_META],
  2: ['endpoints', [ENDPOINT]],
  3: ['ports', [{ 1: ['name', 'sharedString'], 2: ['protocol', 'sharedString'], 3: ['port', 'int32'] }]],
  4: ['addressType', 'sharedString'],
};
