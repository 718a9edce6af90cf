import { describe, expect, it } from 'vitest';
import {
  K8S_BINARIES,
  K8S_BUILDS,
  k8sBinDir,
  latestPatch,
  parseVersionOutput,
  pinnedVersion,
  renderE2eToolsGo,
  renderToolsGoMod,
  stagingModules,
  stagingVersion,
  versionLdflags,
} from '../../../scripts/k8s-tools.ts';

const UPSTREAM_GO_MOD = `module k8s.io/kubernetes

go 1.24.0

require (
	k8s.io/api v0.0.0
	k8s.io/klog/v2 v2.130.1
)

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/client-go => ./staging/src/k8s.io/client-go
)
`;

describe('k8s tools recipe', () => {
  it('picks the newest release of a minor line, ignoring pre-releases and other minors', () => {
    expect(latestPatch(['v1.33.9', 'v1.34.0', 'v1.34.10', 'v1.34.2', 'v1.34.11-rc.0', 'v1.35.4'], '1.34')).toBe('v1.34.10');
    expect(() => latestPatch(['v1.33.1'], '1.34')).toThrow(/v1\.34\.x/);
  });

  it('maps a kubernetes release to its staging module version', () => {
    expect(stagingVersion('v1.34.4')).toBe('v0.34.4');
    expect(() => stagingVersion('v0.34.4')).toThrow(/not a v1/);
  });

  it('reads only the directory replaces of the upstream go.mod', () => {
    expect(stagingModules(UPSTREAM_GO_MOD)).toEqual(['k8s.io/api', 'k8s.io/client-go']);
    expect(() => stagingModules('module x\n')).toThrow(/staging/);
  });

  it('renders a go.mod that pins kubernetes, replaces staging modules by version and lists the commands as tools', () => {
    const goMod = renderToolsGoMod('v1.34.4', ['k8s.io/api', 'k8s.io/client-go']);
    expect(pinnedVersion(goMod)).toBe('v1.34.4');
    expect(goMod).toContain('\tk8s.io/api => k8s.io/api v0.34.4\n');
    expect(goMod).toContain('\tk8s.io/client-go => k8s.io/client-go v0.34.4\n');
    for (const binary of K8S_BINARIES) expect(goMod).toContain(`\tk8s.io/kubernetes/cmd/${binary}\n`);
    expect(goMod).toContain('\tk8s.io/kubernetes/test/images/agnhost\n');
    // A test binary is built with go test -c: it is no tool.
    expect(goMod).not.toContain('\tk8s.io/kubernetes/test/e2e\n');
  });

  it('builds every binary the control plane and nodes run, and the conformance suite as a test binary', () => {
    const names = K8S_BUILDS.map((b) => b.name);
    for (const binary of K8S_BINARIES) expect(names).toContain(binary);
    expect(K8S_BUILDS.find((b) => b.name === 'e2e.test')).toMatchObject({ kind: 'test', package: 'k8s.io/kubernetes/test/e2e', reportsVersion: false });
    expect(K8S_BUILDS.find((b) => b.name === 'kubelet')).toMatchObject({ kind: 'command', reportsVersion: true });
  });

  it('keeps the e2e suite imports in tools.go, without the standard library and commented imports', () => {
    const e2eTest = [
      'package e2e',
      '',
      'import (',
      '\t"flag"',
      '\t"testing"',
      '',
      '\t"github.com/onsi/ginkgo/v2"',
      '\tyaml "go.yaml.in/yaml/v2"',
      '\t// "github.com/onsi/ginkgo/v2"',
      '\t_ "k8s.io/kubernetes/test/e2e/network"',
      ')',
      '',
      'func handleFlags() {}',
    ].join('\n');
    const toolsGo = renderE2eToolsGo(e2eTest);
    expect(toolsGo.startsWith('//go:build tools\n')).toBe(true);
    expect(toolsGo.match(/^\t_ "[^"]+"$/gm)).toEqual(['\t_ "github.com/onsi/ginkgo/v2"', '\t_ "go.yaml.in/yaml/v2"', '\t_ "k8s.io/kubernetes/test/e2e/network"']);
    expect(() => renderE2eToolsGo('package e2e\n')).toThrow(/no import block/);
  });

  it('reads the pin from a tidied go.mod where kubernetes sits in a require block', () => {
    expect(pinnedVersion('require (\n\tk8s.io/klog/v2 v2.130.1\n\tk8s.io/kubernetes v1.34.4\n)\n')).toBe('v1.34.4');
    expect(() => pinnedVersion('module x\n')).toThrow(/k8s\.io\/kubernetes/);
  });

  it('stamps the version in both version packages and strips symbols', () => {
    const flags = versionLdflags('v1.34.4', '2026-02-10T12:53:36Z');
    for (const pkg of ['k8s.io/client-go/pkg/version', 'k8s.io/component-base/version']) {
      expect(flags).toContain(`-X ${pkg}.gitVersion=v1.34.4`);
      expect(flags).toContain(`-X ${pkg}.gitMajor=1`);
      expect(flags).toContain(`-X ${pkg}.gitMinor=34`);
      expect(flags).toContain(`-X ${pkg}.buildDate=2026-02-10T12:53:36Z`);
    }
    expect(flags.startsWith('-s -w ')).toBe(true);
  });

  it('caches binaries per version under WEFT_CACHE_DIR and refuses versions that could escape it', () => {
    expect(k8sBinDir('v1.34.4', { WEFT_CACHE_DIR: '/var/cache/w' })).toBe('/var/cache/w/k8s/v1.34.4/bin');
    expect(k8sBinDir('v1.34.4', {})).toMatch(/\/\.cache\/weft\/k8s\/v1\.34\.4\/bin$/);
    expect(() => k8sBinDir('../../etc', {})).toThrow(/not vX\.Y\.Z/);
  });

  it('reads the version from server-binary and kubectl output', () => {
    expect(parseVersionOutput('Kubernetes v1.34.4\n')).toBe('v1.34.4');
    expect(parseVersionOutput('Client Version: v1.34.4\nKustomize Version: v5.7.1\n')).toBe('v1.34.4');
    expect(parseVersionOutput('Kubernetes v0.0.0-master+$Format:%H$\n')).toBe('v0.0.0-master+$Format:%H$');
    expect(parseVersionOutput('')).toBeUndefined();
  });
});
