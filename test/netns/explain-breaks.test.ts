import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteNetns } from '../../lab/netns.ts';
import { addPod, removePod } from '../../lab/pod.ts';
import { tokenize } from '../../troubleshoot/netfilter/iptables-ruleset.ts';
import { NetnsScope } from '../support/netns.ts';
import {
  applyProxyRules, causeCodes, checkOf, doctor, explain, explainAcross, HTTP_PORT, httpGet, NODE_PORT, ping, serviceObjects, startTroubleshootLab, stopTroubleshootLab, WEB_IP,
  type TroubleshootLab,
} from './troubleshoot-lab.ts';

// Break one thing at a time in a working two-node lab, prove the break with real traffic, and require
// weft explain and weft doctor to name that cause; then repair it and prove the path works again.
// (This tier has weft-proxy's rules but not its daemon, so doctor's proxy health check fails here
// throughout: its daemon's health is checked in the cluster tier.)

interface FdbEntry {
  mac: string;
  dst?: string;
}

describe('one breakage at a time (iptables mode): explain and doctor name the cause', () => {
  const scope = new NetnsScope();
  let lab: TroubleshootLab;
  const node1 = () => lab.node(1);
  const [a, c] = [() => lab.pod('n1p1'), () => lab.pod('n2p1')];
  const acrossArgs = () => ['--from', a().ip, '--to', `${c().ip}:${HTTP_PORT}`];

  beforeAll(async () => {
    lab = await startTroubleshootLab(scope, { mode: 'iptables', net: '172.30.95' });
  });
  afterAll(() => stopTroubleshootLab(lab, scope));

  it('healthy: every path explained as delivered, and every doctor check but the proxy daemon\'s health is ok', async () => {
    expect(await ping(a(), c().ip)).toBe(true);
    expect((await explain(lab, node1(), acrossArgs())).code).toBe(0);
    for (const node of lab.cluster.nodes) {
      const report = await doctor(lab, node);
      const notOk = report.checks.filter((x) => x.status !== 'ok' && x.status !== 'skip').map((x) => x.id);
      expect(notOk, report.text).toEqual(['proxy']);
    }
  });

  it('FDB entry deleted', async () => {
    const entry = (JSON.parse(await node1().ns.exec('bridge', ['-j', 'fdb', 'show', 'dev', 'weft.1'])) as FdbEntry[]).find((e) => e.dst === lab.node(2).ip);
    expect(entry).toBeDefined();
    const { mac, dst } = entry as Required<FdbEntry>;
    await node1().ns.exec('bridge', ['fdb', 'del', mac, 'dev', 'weft.1', 'dst', dst, 'self']);
    try {
      expect(await ping(a(), c().ip)).toBe(false);
      const { code, explanation } = await explain(lab, node1(), acrossArgs());
      expect(code).toBe(1);
      expect(causeCodes(explanation)).toEqual(['no-fdb']);
      expect(explanation.verdict.causes[0]?.fix).toContain(`bridge fdb append ${mac} dev weft.1 dst ${dst}`);
      const peers = checkOf((await doctor(lab, node1())).checks, 'peers');
      expect(peers.status).toBe('error');
      expect(peers.evidence.filter((e) => e.endsWith(`FDB entry ${mac} -> ${dst} missing`))).toHaveLength(1);
    } finally {
      await node1().ns.exec('bridge', ['fdb', 'append', mac, 'dev', 'weft.1', 'dst', dst, 'self', 'permanent']);
    }
    expect(await ping(a(), c().ip)).toBe(true);
  });

  it('neighbour deleted', async () => {
    const neighbour = (JSON.parse(await node1().ns.exec('ip', ['-j', 'neigh', 'show', 'dev', 'weft.1'])) as { dst: string; lladdr: string }[])[0];
    expect(neighbour?.lladdr).toMatch(/^[0-9a-f:]{17}$/);
    const { dst, lladdr } = neighbour as { dst: string; lladdr: string };
    await node1().ns.exec('ip', ['neigh', 'del', dst, 'dev', 'weft.1']);
    try {
      expect(await ping(a(), c().ip)).toBe(false);
      const { code, explanation } = await explain(lab, node1(), acrossArgs());
      expect(code).toBe(1);
      expect(causeCodes(explanation)).toEqual(['no-neighbour']);
      expect(explanation.verdict.causes[0]?.message).toContain(`no neighbour entry for ${dst} on weft.1`);
      const peers = checkOf((await doctor(lab, node1())).checks, 'peers');
      expect(peers.status).toBe('error');
      expect(peers.evidence.join('\n')).toContain(`neighbour ${dst} missing`);
    } finally {
      await node1().ns.exec('ip', ['neigh', 'replace', dst, 'lladdr', lladdr, 'dev', 'weft.1', 'nud', 'permanent']);
    }
    expect(await ping(a(), c().ip)).toBe(true);
  });

  it('wrong MTU on the VXLAN device', async () => {
    await node1().ns.exec('ip', ['link', 'set', 'weft.1', 'mtu', '1400']);
    try {
      // 1422 bytes of ICMP payload make a 1450-byte packet: the pods' MTU, 50 more than weft.1 now takes.
      expect(await ping(a(), c().ip, ['-M', 'do', '-s', '1422'])).toBe(false);
      const { code, explanation } = await explain(lab, node1(), acrossArgs());
      expect(code).toBe(1);
      expect(explanation.packet.size).toBe(1450);
      expect(causeCodes(explanation)).toEqual(['mtu']);
      expect(explanation.verdict.causes[0]?.fix).toBe('ip link set weft.1 mtu 1450 (or restart weftd)');
      const device = checkOf((await doctor(lab, node1())).checks, 'vxlan-device');
      expect(device.status).toBe('error');
      expect(device.summary).toContain('MTU 1400, wanted 1450 (eth0 MTU 1500 - 50)');
    } finally {
      await node1().ns.exec('ip', ['link', 'set', 'weft.1', 'mtu', '1450']);
      // The pod learnt the smaller path MTU from "fragmentation needed": forget it.
      await a().ns.exec('ip', ['route', 'flush', 'cache']);
    }
    expect(await ping(a(), c().ip, ['-M', 'do', '-s', '1422'])).toBe(true);
  });

  it('forwarding off', async () => {
    await node1().ns.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=0']);
    try {
      expect(await ping(a(), c().ip)).toBe(false);
      const { code, explanation } = await explain(lab, node1(), acrossArgs());
      expect(code).toBe(1);
      expect(causeCodes(explanation)).toEqual(['forwarding-off']);
      expect(explanation.verdict.causes[0]?.message).toBe('net.ipv4.conf.cni0.forwarding is 0: the node does not forward packets between interfaces');
      const forwarding = checkOf((await doctor(lab, node1())).checks, 'forwarding');
      expect(forwarding).toMatchObject({ status: 'error', fix: 'sysctl -w net.ipv4.ip_forward=1 (and keep it in /etc/sysctl.d)' });
    } finally {
      await node1().ns.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    }
    expect(await ping(a(), c().ip)).toBe(true);
  });

  it('rp_filter strict on the VXLAN device', async () => {
    // An underlay host routing the pod network through node 1 reaches a pod on node 2 through the
    // overlay with its own address; the pod answers it directly over the underlay.
    const outside = lab.cluster.underlay;
    const node2 = lab.node(2);
    await outside.ns.exec('ip', ['route', 'add', '10.244.0.0/16', 'via', node1().ip]);
    try {
      expect(await ping(outside, c().ip)).toBe(true);
      await node2.ns.exec('sysctl', ['-qw', 'net.ipv4.conf.weft/1.rp_filter=1']);
      expect(await ping(outside, c().ip)).toBe(false);
      const path = await explainAcross(lab, node1(), ['--from', lab.outsideIp, '--to', `${c().ip}:${HTTP_PORT}`]);
      expect(path.map((p) => p.node)).toEqual(['node-1', 'node-2']);
      expect(path[0]?.explanation.verdict.kind).toBe('delivered');
      expect(causeCodes(path[1]!.explanation)).toEqual(['rp-filter']);
      expect(path[1]?.explanation.verdict.causes[0]?.message).toContain(`the route back to ${lab.outsideIp} leaves through eth0, not weft.1`);
      const rp = checkOf((await doctor(lab, node2)).checks, 'rp-filter');
      expect(rp.status).toBe('warn');
      expect(rp.summary).toContain('strict reverse-path filtering on weft.1');
    } finally {
      await node2.ns.exec('sysctl', ['-qw', 'net.ipv4.conf.weft/1.rp_filter=0']);
      await outside.ns.exec('ip', ['route', 'del', '10.244.0.0/16']);
    }
  });

  it('Service scaled to zero endpoints', async () => {
    const client = lab.pod('n1p2');
    await applyProxyRules(lab, node1(), serviceObjects(lab, []));
    try {
      expect((await httpGet(client, `http://${WEB_IP}/`)).code).toBe(7);
      const { code, explanation } = await explain(lab, node1(), ['--from', client.ip, '--to', `${WEB_IP}:80`]);
      expect(code).toBe(1);
      expect(causeCodes(explanation)).toEqual(['no-endpoints']);
      expect(explanation.verdict.causes[0]?.message).toMatch(/^Service default\/web:http has no endpoints/);
      const endpoints = checkOf((await doctor(lab, node1())).checks, 'service-endpoints');
      expect(endpoints.status).toBe('warn');
      expect(endpoints.evidence).toEqual([`no endpoints: default/web:http (${WEB_IP}:80)`, `no endpoints: default/web:http (node port ${NODE_PORT})`]);
    } finally {
      await applyProxyRules(lab, node1(), serviceObjects(lab));
    }
    expect(['n1p1', 'n2p1']).toContain((await httpGet(client, `http://${WEB_IP}/`)).body);
  });

  it('one proxy rule deleted', async () => {
    const client = lab.pod('n1p2');
    const saved = await node1().ns.exec('iptables-save', ['-t', 'nat']);
    const line = saved.split('\n').find((l) => l.startsWith('-A WEFT-SERVICES') && l.includes(`-d ${WEB_IP}/32`));
    expect(line).toBeDefined();
    const [, ...spec] = tokenize(line as string);
    await node1().ns.exec('iptables', ['-t', 'nat', '-D', ...spec]);
    try {
      expect((await httpGet(client, `http://${WEB_IP}/`)).code).not.toBe(0);
      const { code, explanation } = await explain(lab, node1(), ['--from', client.ip, '--to', `${WEB_IP}:80`]);
      expect(code).toBe(1);
      expect(causeCodes(explanation)).toEqual(['missing-proxy-rule']);
      const rules = checkOf((await doctor(lab, node1())).checks, 'proxy-rules');
      expect(rules.status).toBe('error');
      expect(rules.evidence).toEqual([`not dispatched: iptables-nft nat ${spec[spec.length - 1]} handles ${WEB_IP}:80, but no rule sends ${WEB_IP}:80 there`]);
    } finally {
      await applyProxyRules(lab, node1(), serviceObjects(lab));
    }
    expect(['n1p1', 'n2p1']).toContain((await httpGet(client, `http://${WEB_IP}/`)).body);
  });

  it('stray iptables-legacy rule beside nft', async () => {
    const rule = ['FORWARD', '-d', `${c().ip}/32`, '-j', 'DROP'];
    await node1().ns.exec('iptables-legacy', ['-A', ...rule]);
    try {
      expect(await ping(a(), c().ip)).toBe(false);
      const { code, explanation } = await explain(lab, node1(), acrossArgs());
      expect(code).toBe(1);
      expect(causeCodes(explanation)).toEqual(['iptables-backends']);
      expect(explanation.verdict.causes[0]?.message).toContain(`dropped by an iptables-legacy rule (iptables-legacy filter FORWARD: -A FORWARD -d ${c().ip}/32 -j DROP)`);
      const backends = checkOf((await doctor(lab, node1())).checks, 'iptables-backends');
      expect(backends.status).toBe('error');
      expect(backends.evidence).toContain('iptables-legacy: 1 rule(s) in filter FORWARD (1)');
    } finally {
      await node1().ns.exec('iptables-legacy', ['-D', ...rule]);
    }
    expect(await ping(a(), c().ip)).toBe(true);
  });

  it('leaked IPAM allocation', async () => {
    // A pod whose network namespace disappears without a CNI DEL (a runtime crash) keeps its address.
    const leaked = await addPod(node1(), 'n1leak');
    await deleteNetns(leaked.ns.name);
    try {
      const { code, explanation } = await explain(lab, node1(), ['--from', a().ip, '--to', `${leaked.ip}:${HTTP_PORT}`]);
      expect(code).toBe(1);
      expect(causeCodes(explanation)).toEqual(['leaked-address']);
      expect(explanation.verdict.causes[0]?.message).toContain(`${leaked.ip} is still allocated to container ${leaked.containerId} (eth0)`);
      const leaks = checkOf((await doctor(lab, node1())).checks, 'ipam-leaks');
      expect(leaks.status).toBe('warn');
      expect(leaks.evidence.some((e) => e.startsWith(`leaked: ${leaked.ip} (container ${leaked.containerId}, eth0)`))).toBe(true);
    } finally {
      await removePod(leaked);
    }
    expect(checkOf((await doctor(lab, node1())).checks, 'ipam-leaks').status).toBe('ok');
  });
});

describe('proxy breakages in nftables mode: explain and doctor name the cause', () => {
  const scope = new NetnsScope();
  let lab: TroubleshootLab;

  beforeAll(async () => {
    lab = await startTroubleshootLab(scope, { mode: 'nftables', net: '172.30.96' });
  });
  afterAll(() => stopTroubleshootLab(lab, scope));

  it('Service scaled to zero endpoints', async () => {
    const [node, client] = [lab.node(1), lab.pod('n1p2')];
    await applyProxyRules(lab, node, serviceObjects(lab, []));
    try {
      expect((await httpGet(client, `http://${WEB_IP}/`)).code).toBe(7);
      const { explanation } = await explain(lab, node, ['--from', client.ip, '--to', `${WEB_IP}:80`]);
      expect(causeCodes(explanation)).toEqual(['no-endpoints']);
      // The reject sets' elements name the Service in their comments, as the iptables rules do.
      expect(explanation.verdict.causes[0]?.message).toMatch(/^Service default\/web:http has no endpoints/);
      const endpoints = checkOf((await doctor(lab, node)).checks, 'service-endpoints');
      expect(endpoints.status).toBe('warn');
      expect(endpoints.evidence).toEqual([`no endpoints: default/web:http (${WEB_IP}:80)`, `no endpoints: default/web:http (node port ${NODE_PORT})`]);
    } finally {
      await applyProxyRules(lab, node, serviceObjects(lab));
    }
  });

  it('one proxy rule deleted', async () => {
    const [node, client] = [lab.node(1), lab.pod('n1p2')];
    const listing = await node.ns.exec('nft', ['-a', 'list', 'chain', 'ip', 'weft', 'services']);
    const handle = /jump group-tcp-2 # handle (\d+)/.exec(listing)?.[1];
    expect(handle).toBeDefined();
    await node.ns.exec('nft', ['delete', 'rule', 'ip', 'weft', 'services', 'handle', handle as string]);
    try {
      expect((await httpGet(client, `http://${WEB_IP}/`)).code).not.toBe(0);
      const { explanation } = await explain(lab, node, ['--from', client.ip, '--to', `${WEB_IP}:80`]);
      expect(causeCodes(explanation)).toEqual(['missing-proxy-rule']);
      expect(explanation.verdict.causes[0]?.message).toContain(`(nftables ip weft set svcs-tcp-2: ${WEB_IP} . 80 (default/web:http))`);
      const rules = checkOf((await doctor(lab, node)).checks, 'proxy-rules');
      expect(rules.status).toBe('error');
      expect(rules.evidence).toEqual(['unreachable: nftables ip weft group-tcp-2']);
    } finally {
      await applyProxyRules(lab, node, serviceObjects(lab));
    }
    expect(['n1p1', 'n2p1']).toContain((await httpGet(client, `http://${WEB_IP}/`)).body);
  });
});
