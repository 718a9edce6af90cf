import { existsSync } from 'node:fs';
import type { Logger } from '../../lib/log.ts';
import { CniError, ErrorCode, toCniError } from '../cni/errors.ts';
import { delegate, type PluginInvoker } from '../cni/delegate.ts';
import type { Context, Plugin } from '../cni/skeleton.ts';
import type { Attachment, Result } from '../cni/types.ts';
import { buildDelegateConf, parseVxlanCniConfig, type VxlanCniConfig } from './cni-config.ts';
import { delegateFileName, listDelegates, loadDelegate, removeDelegate, saveDelegate } from './delegate-store.ts';
import { readSubnetFile, type SubnetEnv } from './subnet-file.ts';
import { UndoLog } from '../cni/undo.ts';

// weft-vxlan: turns weftd's subnet file into a bridge + host-local delegate config, remembers it per
// attachment, and forwards every verb to the delegate.

function readSubnet(config: VxlanCniConfig): SubnetEnv {
  try {
    return readSubnetFile(config.subnetFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CniError(ErrorCode.TryAgainLater, `cannot read subnet file: "${config.subnetFile}" does not exist (is weftd running?)`);
    }
    throw toCniError(error, ErrorCode.IOFailure, `read subnet file "${config.subnetFile}"`);
  }
}

function delegateType(conf: Record<string, unknown>): string {
  return String(conf.type);
}

export interface VxlanPluginOptions {
  invoke?: PluginInvoker;
  /** Where DEL reports a stored config it could not read. */
  log?: Logger;
}

export function createVxlanPlugin(options: VxlanPluginOptions = {}): Plugin<VxlanCniConfig> {
  const run = (ctx: Context<VxlanCniConfig>, verb: 'ADD' | 'DEL' | 'CHECK' | 'GC', conf: Record<string, unknown>) =>
    delegate(delegateType(conf), verb, ctx.request, JSON.stringify(conf), { caller: ctx.conf.type, field: 'delegate.type', invoke: options.invoke });

  return {
    parseConfig: (conf) => parseVxlanCniConfig(conf),

    async add(ctx): Promise<Result> {
      const { containerId, ifname } = ctx.request;
      const conf = buildDelegateConf(ctx.conf, ctx.config, readSubnet(ctx.config));
      const undo = new UndoLog();
      try {
        // Saved before the delegate runs: a crash between the two still leaves DEL what it needs.
        saveDelegate(ctx.config.dataDir, { containerId, ifname, conf });
        undo.record('remove the stored delegate config', async () => removeDelegate(ctx.config.dataDir, containerId, ifname));
        undo.record('delete what the delegate made', () => run(ctx, 'DEL', conf));
        return (await run(ctx, 'ADD', conf))!;
      } catch (thrown) {
        return undo.unwindAndThrow(thrown, { code: ErrorCode.IOFailure, action: `add "${ifname}" of container "${containerId}"` });
      }
    },

    async del(ctx): Promise<void> {
      const { containerId, ifname } = ctx.request;
      const loaded = loadDelegate(ctx.config.dataDir, containerId, ifname);
      // Nothing stored: ADD never got as far as the delegate, or DEL already ran.
      if (loaded.state === 'absent') return;
      let conf: Record<string, unknown> | undefined;
      if (loaded.state === 'stored') conf = loaded.stored.conf;
      else {
        // A damaged file must not block every later DEL: release with today's config when there is one.
        options.log?.warn('ignoring unreadable stored delegate config', { containerId, ifname, reason: loaded.reason });
        conf = existsSync(ctx.config.subnetFile) ? buildDelegateConf(ctx.conf, ctx.config, readSubnet(ctx.config)) : undefined;
      }
      if (conf) await run(ctx, 'DEL', conf);
      removeDelegate(ctx.config.dataDir, containerId, ifname);
    },

    async check(ctx): Promise<void> {
      const { containerId, ifname } = ctx.request;
      const loaded = loadDelegate(ctx.config.dataDir, containerId, ifname);
      if (loaded.state === 'absent') throw new CniError(ErrorCode.UnknownContainer, `cannot check container "${containerId}": no stored delegate config for interface "${ifname}"`);
      if (loaded.state === 'unreadable') throw new CniError(ErrorCode.IOFailure, `cannot check container "${containerId}": stored delegate config for interface "${ifname}" is unreadable: ${loaded.reason}`);
      await run(ctx, 'CHECK', { ...loaded.stored.conf, prevResult: ctx.conf.prevResult });
    },

    async status(ctx): Promise<void> {
      if (!existsSync(ctx.config.subnetFile)) {
        throw new CniError(ErrorCode.NotAvailable, `cannot serve pods yet: subnet file "${ctx.config.subnetFile}" does not exist (is weftd running?)`);
      }
      readSubnet(ctx.config);
    },

    async gc(ctx, valid: readonly Attachment[]): Promise<void> {
      const stored = listDelegates(ctx.config.dataDir);
      // The delegate (and its IPAM) releases what the invalid attachments held.
      const conf = existsSync(ctx.config.subnetFile) ? buildDelegateConf(ctx.conf, ctx.config, readSubnet(ctx.config)) : stored[0]?.conf;
      if (conf) {
        const attachments = valid.map((a) => ({ containerID: a.containerId, ifname: a.ifname }));
        await run(ctx, 'GC', { ...conf, 'cni.dev/valid-attachments': attachments });
      }
      // Only now: had the delegate failed, the stored configs are what the next GC or DEL still needs.
      const keep = new Set(valid.map((a) => delegateFileName(a.containerId, a.ifname)));
      for (const entry of stored) {
        if (!keep.has(delegateFileName(entry.containerId, entry.ifname))) removeDelegate(ctx.config.dataDir, entry.containerId, entry.ifname);
      }
    },
  };
}
