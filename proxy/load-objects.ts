import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseClusterObjects, type ClusterObjects } from './core/objects.ts';

// Reads what `kubectl get services,endpointslices,nodes -A -o yaml|json` prints. JSON is parsed
// natively (faster on big dumps); anything else as YAML.

export function parseObjectsText(text: string, source: string): ClusterObjects {
  let document: unknown;
  try {
    document = /^\s*[{[]/.test(text) ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new Error(`cannot parse objects file "${source}": ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return parseClusterObjects(document);
}

export function loadObjectsFile(path: string): ClusterObjects {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read objects file "${path}": ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return parseObjectsText(text, path);
}
