// Plain CSI snapshots (snapshot.storage.k8s.io/v1): one VolumeSnapshot per PVC, ready when the driver says
// readyToUse; restore = new PVCs with a VolumeSnapshot dataSource (through a pre-provisioned copy of the snapshot
// content when the target is another namespace) plus the proxy pods that consume them. This is also the
// Rook-Ceph path (RBD/CephFS snapshots through the same API). There is no repository beyond the snapshots.
import type { ToolConfig } from '../config/schema.ts';
import type { VolumeSet } from '../platform/types.ts';
import type { RepositoryCheck } from '../suite/results.ts';
import type { Kube, KubeObject } from '../platform/kubernetes/client.ts';
import { createObject, deleteMatching, deleteObject, findObject, getObject, listObjects } from '../platform/kubernetes/client.ts';
import type { KubeToolContext } from '../platform/kubernetes/context.ts';
import { msg } from '../platform/kubernetes/context.ts';
import type { CorruptAction } from '../platform/kubernetes/objects.ts';
import { GROUP_LABEL, RESULT_PREFIX, TRIAL_LABEL, k8sName, parseLocation, proxyPod, pvc, runSelector } from '../platform/kubernetes/objects.ts';
import { hostPathCorruptPod, snapshotContentCopy, snapshotFromContent, volumeSnapshot } from './csi-snapshot-objects.ts';
import { parseResultLine } from '../platform/kubernetes/integrity.ts';
import { runPod, waitPodsReady, waitPodsReadySince } from '../platform/kubernetes/pods.ts';
import type { Problem } from '../platform/kubernetes/preflight.ts';
import { checkAccess, checkApis, checkSnapshotClass, formatProblems } from '../platform/kubernetes/preflight.ts';
import type { PodTarget } from '../platform/kubernetes/resources.ts';
import { parseMemory, phaseMetrics } from '../platform/kubernetes/resources.ts';
import { watchUntil } from '../platform/kubernetes/watch.ts';
import { pickDistinct } from '../platform/local/fsutil.ts';
import { ToolError } from './types.ts';
import type { BackupOutcome, BackupTool, OpHooks, Probe, RecoverOptions, RecoveryReport, RestoreOutcome, RunningOp } from './types.ts';

const SNAP = 'snapshot.storage.k8s.io/v1';
const HOSTPATH_DRIVER = 'hostpath.csi.k8s.io';

/** "ns/selector,ns/selector" → pod targets. */
export function parsePodTargets(value: string): PodTarget[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const i = s.indexOf('/');
      return i < 0 ? { namespace: s } : { namespace: s.slice(0, i), labelSelector: s.slice(i + 1) || undefined };
    });
}

export interface CsiOptions {
  snapshotClass?: string;
  /** Pods whose CPU and memory count as the tool's: the snapshot controller and the CSI driver. */
  pods: PodTarget[];
  /** Pods the crash fault deletes (the CSI driver doing the snapshot). */
  crashPods: PodTarget[];
  /** The hostpath driver's data directory on its node (for corrupt-repository). */
  hostpathDataDir: string;
  /** A snapshot error that persists this long fails the backup (the controller retries transient ones). */
  errorGraceMs: number;
}

export function csiOptions(config: ToolConfig, platformSnapshotClass?: string): CsiOptions {
  const o = config.options;
  const str = (k: string) => (typeof o[k] === 'string' && o[k] ? (o[k] as string) : undefined);
  const driverPods = 'default/app.kubernetes.io/name=csi-hostpathplugin';
  return {
    snapshotClass: str('snapshotClass') ?? platformSnapshotClass,
    pods: parsePodTargets(str('pods') ?? `kube-system/app.kubernetes.io/name=snapshot-controller,${driverPods}`),
    crashPods: parsePodTargets(str('crashPods') ?? driverPods),
    hostpathDataDir: str('hostpathDataDir') ?? '/var/lib/csi-hostpath-data',
    errorGraceMs: typeof o.errorGraceSeconds === 'number' ? o.errorGraceSeconds * 1000 : 30_000,
  };
}

interface Group {
  id: string;
  namespace: string;
  /** PVC name → VolumeSnapshot name. */
  snapshots: Map<string, string>;
}

function snapshotSummary(s: KubeObject | undefined): string {
  if (!s) return 'not found';
  const st = s.status ?? {};
  return `readyToUse ${st.readyToUse === true}${st.error?.message ? `, error: ${String(st.error.message).slice(0, 200)}` : ''}`;
}

export class CsiSnapshotTool implements BackupTool {
  readonly name: string;
  readonly type = 'csi-snapshot' as const;
  private readonly ctx: KubeToolContext;
  private readonly config: ToolConfig;
  private opts: CsiOptions | undefined;
  private snapshotClass: KubeObject | undefined;
  private trial = '';
  private seq = 0;
  private groups: Group[] = [];

  constructor(config: ToolConfig, ctx: KubeToolContext) {
    this.name = config.name ?? config.type;
    this.config = config;
    this.ctx = ctx;
  }

  private get o(): CsiOptions {
    this.opts ??= csiOptions(this.config, this.ctx.config.snapshotClass);
    return this.opts;
  }

  private get kube(): Kube {
    return this.ctx.kube;
  }

  private get className(): string | undefined {
    return this.snapshotClass?.metadata.name ?? this.o.snapshotClass;
  }

  async probe(): Promise<Probe> {
    try {
      const fix = 'install the CSI snapshot CRDs and the snapshot controller (https://github.com/kubernetes-csi/external-snapshotter), or on kind set platform.install.csiHostpath: true';
      const problems: Problem[] = await checkApis(this.kube, [
        { apiVersion: SNAP, plural: 'volumesnapshots', fix },
        { apiVersion: SNAP, plural: 'volumesnapshotcontents', fix },
        { apiVersion: SNAP, plural: 'volumesnapshotclasses', fix },
      ]);
      if (problems.length) return { ok: false, reason: formatProblems(problems) };
      const sc = this.ctx.storageClass();
      const vsc = await checkSnapshotClass(this.kube, this.o.snapshotClass, sc.provisioner);
      problems.push(...vsc.problems);
      this.snapshotClass = vsc.snapshotClass;
      const ns = this.ctx.config.namespace;
      problems.push(
        ...(await checkAccess(this.kube, [
          { verb: 'create', group: 'snapshot.storage.k8s.io', resource: 'volumesnapshots', namespace: ns, why: 'take the snapshots' },
          { verb: 'create', group: 'snapshot.storage.k8s.io', resource: 'volumesnapshotcontents', why: 'restore a snapshot into another namespace' },
          { verb: 'delete', group: 'snapshot.storage.k8s.io', resource: 'volumesnapshotcontents', why: 'remove those copies afterwards' },
        ])),
      );
      if (problems.length) return { ok: false, reason: formatProblems(problems) };
      return { ok: true, version: `${SNAP} (driver ${String(vsc.snapshotClass?.driver ?? sc.provisioner ?? '?')}, class ${vsc.snapshotClass?.metadata.name ?? '?'})` };
    } catch (err) {
      return { ok: false, reason: `cannot inspect the snapshot API: ${msg(err)}` };
    }
  }

  async init(trialId: string): Promise<void> {
    this.trial = trialId;
    this.seq = 0;
    this.groups = [];
  }

  private async crash(op: string, done: number, total: number): Promise<string> {
    const victims: string[] = [];
    for (const t of this.o.crashPods) {
      const pods = await listObjects(this.kube, { apiVersion: 'v1', plural: 'pods', namespace: t.namespace }, t.labelSelector ? { labelSelector: t.labelSelector } : undefined);
      for (const p of pods.items) {
        if (!p.metadata.name || p.metadata.deletionTimestamp) continue;
        await deleteObject(this.kube, { apiVersion: 'v1', plural: 'pods', namespace: t.namespace, name: p.metadata.name }, { gracePeriodSeconds: 0 });
        victims.push(`${t.namespace}/${p.metadata.name}`);
      }
    }
    if (victims.length === 0) throw new ToolError(this.name, `no CSI driver pod to kill (options.crashPods: ${this.o.crashPods.map((t) => `${t.namespace}/${t.labelSelector ?? ''}`).join(',')})`);
    return `deleted CSI driver pod(s) ${victims.join(', ')} (${op}, ${done}/${total} ready)`;
  }

  /** Wait until every named VolumeSnapshot in `ns` is readyToUse; a lasting error fails. */
  private async waitReady(ns: string, names: string[], timeoutMs: number, signal: AbortSignal | undefined, onState: (ready: number) => void): Promise<Map<string, KubeObject>> {
    const errorSince = new Map<string, number>();
    const wanted = new Set(names);
    return watchUntil(this.kube, {
      ref: { apiVersion: SNAP, plural: 'volumesnapshots', namespace: ns },
      what: `VolumeSnapshots ${names.join(', ')} in ${ns} to be ready`,
      timeoutMs,
      signal,
      tickMs: 1000,
      check: (state) => {
        const out = new Map<string, KubeObject>();
        let ready = 0;
        for (const n of wanted) {
          const s = state.get(`${ns}/${n}`);
          if (s?.status?.readyToUse === true) {
            ready++;
            out.set(n, s);
            errorSince.delete(n);
            continue;
          }
          if (s?.status?.error?.message) {
            const since = errorSince.get(n) ?? Date.now();
            errorSince.set(n, since);
            if (Date.now() - since >= this.o.errorGraceMs) throw new ToolError(this.name, `VolumeSnapshot ${ns}/${n} failed: ${String(s.status.error.message).slice(0, 300)}`);
          }
        }
        onState(ready);
        return ready === wanted.size ? out : undefined;
      },
      lastSeen: (state) => names.map((n) => `${n}: ${snapshotSummary(state.get(`${ns}/${n}`))}`).join('; '),
    }).catch((err: unknown) => {
      if (err instanceof ToolError) throw err;
      throw new ToolError(this.name, `${msg(err)}${/timed out/.test(msg(err)) ? ' (is the snapshot controller running?)' : ''}`);
    });
  }

  private sumRestoreSize(snaps: Iterable<KubeObject>): number {
    let total = 0;
    for (const s of snaps) total += parseMemory(String(s.status?.restoreSize ?? '0'));
    return total;
  }

  async backup(source: VolumeSet, hooks?: OpHooks): Promise<BackupOutcome> {
    const { namespace: ns } = parseLocation(source.location);
    const id = k8sName(`${this.trial}-s${++this.seq}`);
    const group: Group = { id, namespace: ns, snapshots: new Map() };
    const sampler = this.ctx.sampler(this.o.pods);
    await sampler.start();
    let ready = 0;
    const started = Date.now();
    try {
      for (const v of source.volumes) {
        const name = k8sName(`${id}-${v}`);
        group.snapshots.set(v, name);
        await createObject(this.kube, 'volumesnapshots', volumeSnapshot({ name, namespace: ns, runId: this.ctx.runId, trial: this.trial, group: id, pvc: v, className: this.className }));
      }
      this.groups.push(group);
      const op: RunningOp = {
        describe: () => `CSI snapshots ${id} of ${source.volumes.length} volume(s) in ${ns}`,
        progress: async () => ready / Math.max(1, source.volumes.length),
        kill: () => this.crash('snapshot', ready, source.volumes.length),
      };
      hooks?.onStart?.(op);
      const snaps = await this.waitReady(ns, [...group.snapshots.values()], this.ctx.timeouts.backupMs, hooks?.signal, (r) => (ready = r));
      const wallMs = Date.now() - started;
      const bytes = this.sumRestoreSize(snaps.values());
      return { snapshotId: id, metrics: phaseMetrics({ wallMs, usage: await sampler.stop(), bytesProcessed: bytes, bytesWritten: 0 }) };
    } finally {
      await sampler.stop();
    }
  }

  private async group(id: string): Promise<Group> {
    const known = this.groups.find((g) => g.id === id);
    if (known) return known;
    const list = await listObjects(this.kube, { apiVersion: SNAP, plural: 'volumesnapshots' }, { labelSelector: `${GROUP_LABEL}=${id}` });
    if (list.items.length === 0) throw new ToolError(this.name, `no VolumeSnapshots of snapshot group ${id}`);
    const g: Group = { id, namespace: list.items[0]!.metadata.namespace!, snapshots: new Map() };
    for (const s of list.items) g.snapshots.set(String(s.spec?.source?.persistentVolumeClaimName), s.metadata.name!);
    return g;
  }

  async restore(snapshotId: string, target: VolumeSet, hooks?: OpHooks): Promise<RestoreOutcome> {
    const g = await this.group(snapshotId);
    const { namespace: targetNs } = parseLocation(target.location);
    const sampler = this.ctx.sampler(this.o.pods);
    await sampler.start();
    const started = Date.now();
    let phase = 'snapshots';
    let bound = 0;
    try {
      const op: RunningOp = {
        describe: () => `restore of CSI snapshots ${snapshotId} into ${targetNs}`,
        progress: async () => (phase === 'snapshots' ? 0.1 : 0.1 + (0.9 * bound) / Math.max(1, target.volumes.length)),
        kill: () => this.crash(`restore ${phase}`, bound, target.volumes.length),
      };
      hooks?.onStart?.(op);
      // The dataSource must be in the PVC's namespace: elsewhere, bind a Retain copy of each snapshot's content.
      const sources = new Map<string, KubeObject>();
      for (const v of target.volumes) {
        const snapName = g.snapshots.get(v);
        if (!snapName) throw new ToolError(this.name, `snapshot group ${snapshotId} has no snapshot of volume ${v}`);
        sources.set(v, await getObject(this.kube, { apiVersion: SNAP, plural: 'volumesnapshots', namespace: g.namespace, name: snapName }));
      }
      const local = new Map<string, string>();
      if (targetNs === g.namespace) for (const [v, s] of sources) local.set(v, s.metadata.name!);
      else {
        for (const [v, s] of sources) {
          const contentName = s.status?.boundVolumeSnapshotContentName as string | undefined;
          if (!contentName) throw new ToolError(this.name, `VolumeSnapshot ${g.namespace}/${s.metadata.name} is bound to no content`);
          const content = await getObject(this.kube, { apiVersion: SNAP, plural: 'volumesnapshotcontents', name: contentName });
          const handle = content.status?.snapshotHandle as string | undefined;
          if (!handle) throw new ToolError(this.name, `VolumeSnapshotContent ${contentName} has no snapshotHandle`);
          const name = k8sName(`${snapshotId}-${v}`);
          const copy = k8sName(`pvbench-${this.ctx.runId}-${targetNs}-${v}`, 253);
          await createObject(
            this.kube,
            'volumesnapshotcontents',
            snapshotContentCopy({
              name: copy,
              runId: this.ctx.runId,
              trial: this.trial,
              driver: String(content.spec?.driver),
              snapshotHandle: handle,
              className: content.spec?.volumeSnapshotClassName,
              sourceVolumeMode: content.spec?.sourceVolumeMode,
              snapshotRef: { name, namespace: targetNs },
            }),
          );
          await createObject(this.kube, 'volumesnapshots', snapshotFromContent({ name, namespace: targetNs, runId: this.ctx.runId, trial: this.trial, content: copy, className: content.spec?.volumeSnapshotClassName, volume: v }));
          local.set(v, name);
        }
        await this.waitReady(targetNs, [...local.values()], this.ctx.timeouts.restoreMs, hooks?.signal, () => undefined);
      }
      phase = 'volumes';
      const size = this.ctx.volumeSize();
      const bytes = this.sumRestoreSize(sources.values());
      for (const v of target.volumes) {
        const want = Math.max(parseMemory(size), parseMemory(String(sources.get(v)?.status?.restoreSize ?? '0')));
        await createObject(
          this.kube,
          'persistentvolumeclaims',
          pvc({ name: v, namespace: targetNs, runId: this.ctx.runId, setId: target.id, storageClass: this.ctx.storageClass().name, size: `${Math.ceil(want / 2 ** 20)}Mi`, fromSnapshot: local.get(v) }),
        );
        // The workload comes back with its volumes: the proxies are the volumes' first consumers (provisioning
        // of WaitForFirstConsumer classes happens now) and the restore is done when they run.
        await createObject(this.kube, 'pods', proxyPod({ namespace: targetNs, runId: this.ctx.runId, setId: target.id, volume: v, image: this.ctx.podImage }));
      }
      await watchUntil(this.kube, {
        ref: { apiVersion: 'v1', plural: 'persistentvolumeclaims', namespace: targetNs },
        what: `restored PVCs in ${targetNs} to bind`,
        timeoutMs: this.ctx.timeouts.restoreMs,
        signal: hooks?.signal,
        check: (state) => {
          bound = target.volumes.filter((v) => state.get(`${targetNs}/${v}`)?.status?.phase === 'Bound').length;
          return bound === target.volumes.length ? true : undefined;
        },
        lastSeen: (state) => target.volumes.map((v) => `${v}: ${state.get(`${targetNs}/${v}`)?.status?.phase ?? 'missing'}`).join(', '),
      }).catch((err: unknown) => {
        throw new ToolError(this.name, msg(err));
      });
      await waitPodsReady(this.kube, targetNs, target.volumes, this.ctx.timeouts.restoreMs, { signal: hooks?.signal }).catch((err: unknown) => {
        throw new ToolError(this.name, msg(err));
      });
      const wallMs = Date.now() - started;
      return { metrics: phaseMetrics({ wallMs, usage: await sampler.stop(), bytesProcessed: bytes, bytesWritten: bytes }) };
    } finally {
      await sampler.stop();
    }
  }

  private async trialSnapshots(): Promise<KubeObject[]> {
    const out: KubeObject[] = [];
    for (const ns of new Set(this.groups.map((g) => g.namespace))) {
      const list = await listObjects(this.kube, { apiVersion: SNAP, plural: 'volumesnapshots', namespace: ns }, { labelSelector: `${TRIAL_LABEL}=${k8sName(this.trial)},${GROUP_LABEL}` });
      out.push(...list.items);
    }
    return out;
  }

  /** CSI has no content check: every snapshot must be ready, error-free, and bound to content with a handle. */
  async check(): Promise<RepositoryCheck> {
    try {
      const snaps = await this.trialSnapshots();
      const lines: string[] = [];
      let ok = snaps.length > 0;
      for (const s of snaps) {
        const contentName = s.status?.boundVolumeSnapshotContentName as string | undefined;
        const content = contentName ? await findObject(this.kube, { apiVersion: SNAP, plural: 'volumesnapshotcontents', name: contentName }) : undefined;
        const good = s.status?.readyToUse === true && !s.status?.error && !!content?.status?.snapshotHandle && content.status?.readyToUse !== false;
        if (!good) ok = false;
        lines.push(`${s.metadata.name}: ${snapshotSummary(s)}${content ? `, content ${contentName} handle ${String(content.status?.snapshotHandle ?? 'none')}` : ', no content'}`);
      }
      if (snaps.length === 0) lines.push('no snapshots in this trial');
      lines.push('(CSI snapshots carry no checksums: only their state can be checked)');
      return { ran: true, ok, output: lines.join('\n') };
    } catch (err) {
      return { ran: false, ok: false, output: `could not inspect the snapshots: ${msg(err)}` };
    }
  }

  async recover(opts: RecoverOptions = {}): Promise<RecoveryReport> {
    const actions: string[] = [];
    let staleLocks = 0;
    // The driver comes back (its pods are re-created by their controller) before anything is retried.
    for (const t of this.o.crashPods) {
      const t0 = Date.now();
      if (opts.since !== undefined && t.labelSelector) {
        // After a node outage: the driver's pods Ready again since then, not a status from before it.
        const names = await waitPodsReadySince(this.kube, t.namespace, t.labelSelector, opts.since, this.ctx.timeouts.readyMs, 'the CSI driver');
        actions.push(`CSI driver pods ${names.join(', ')} Ready again since the outage after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        continue;
      }
      const list = await listObjects(this.kube, { apiVersion: 'v1', plural: 'pods', namespace: t.namespace }, t.labelSelector ? { labelSelector: t.labelSelector } : undefined);
      const names = list.items.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name!);
      if (names.length) {
        await waitPodsReady(this.kube, t.namespace, names, this.ctx.timeouts.readyMs, { labelSelector: t.labelSelector }).catch(() => undefined);
        actions.push(`CSI driver pods ${names.join(', ')} ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      }
    }
    // Snapshots that never became ready are partial: delete them (their groups are not offered for restore).
    for (const s of await this.trialSnapshots()) {
      if (s.status?.readyToUse === true) continue;
      staleLocks++;
      await deleteObject(this.kube, { apiVersion: SNAP, plural: 'volumesnapshots', namespace: s.metadata.namespace, name: s.metadata.name! });
      actions.push(`deleted unready VolumeSnapshot ${s.metadata.namespace}/${s.metadata.name}${s.status?.error?.message ? ` (${String(s.status.error.message).slice(0, 120)})` : ''}`);
    }
    return { staleLocks, actions };
  }

  async snapshots(): Promise<string[]> {
    const snaps = await this.trialSnapshots();
    const ready = new Set(snaps.filter((s) => s.status?.readyToUse === true).map((s) => `${s.metadata.namespace}/${s.metadata.name}`));
    return this.groups.filter((g) => [...g.snapshots.values()].every((n) => ready.has(`${g.namespace}/${n}`))).map((g) => g.id);
  }

  /** The snapshots' restore sizes (CSI reports no stored size; for full-copy drivers like hostpath it is close). */
  async repositorySize(): Promise<number> {
    try {
      return this.sumRestoreSize((await this.trialSnapshots()).filter((s) => s.status?.readyToUse === true));
    } catch {
      return 0;
    }
  }

  /**
   * Only where the snapshot data is reachable as files: the CSI hostpath driver keeps each snapshot as
   * <dataDir>/<snapshot handle>.snap (a tarball) on its node. Other drivers' snapshots live in the storage system.
   */
  async corruptRepository(bitFlips: number, random: () => number) {
    const snaps = (await this.trialSnapshots()).filter((s) => s.status?.readyToUse === true);
    const contents: KubeObject[] = [];
    for (const s of snaps) {
      const c = s.status?.boundVolumeSnapshotContentName ? await findObject(this.kube, { apiVersion: SNAP, plural: 'volumesnapshotcontents', name: String(s.status.boundVolumeSnapshotContentName) }) : undefined;
      if (c?.status?.snapshotHandle) contents.push(c);
    }
    if (contents.length === 0) throw new ToolError(this.name, 'no ready snapshot to corrupt');
    const drivers = new Set(contents.map((c) => String(c.spec?.driver)));
    if (drivers.size !== 1 || !drivers.has(HOSTPATH_DRIVER)) {
      throw new ToolError(this.name, `corrupt-repository reaches snapshot data only for the CSI hostpath driver; these snapshots belong to ${[...drivers].join(', ')}, whose data lives inside the storage system`);
    }
    const plugin = this.o.crashPods[0];
    let node: string | undefined;
    if (plugin) {
      const pods = await listObjects(this.kube, { apiVersion: 'v1', plural: 'pods', namespace: plugin.namespace }, plugin.labelSelector ? { labelSelector: plugin.labelSelector } : undefined);
      node = pods.items.find((p) => p.spec?.nodeName)?.spec?.nodeName;
    }
    const chosen = pickDistinct(contents, Math.min(bitFlips, contents.length), random);
    const actions: CorruptAction[] = [];
    for (let i = 0; i < bitFlips; i++) {
      const c = chosen[i % chosen.length]!;
      actions.push({ op: 'flip', path: `${String(c.status.snapshotHandle)}.snap`, fraction: random(), bit: Math.floor(random() * 8) });
    }
    const ns = this.groups[0]?.namespace ?? this.ctx.config.namespace;
    const pod = hostPathCorruptPod({ name: k8sName(`corrupt-snap-${this.trial}-${Date.now().toString(36)}`), namespace: ns, runId: this.ctx.runId, image: this.ctx.podImage, nodeName: node, hostPath: this.o.hostpathDataDir, actions });
    const results = parseResultLine<(CorruptAction & { ok: boolean; error?: string })[]>(await runPod(this.kube, pod, this.ctx.timeouts.readyMs), RESULT_PREFIX);
    const failed = results.filter((r) => !r.ok);
    if (failed.length === results.length) throw new ToolError(this.name, `could not flip bits in the snapshot files: ${failed[0]?.error ?? 'unknown'}`);
    const files = [...new Set(results.filter((r) => r.ok).map((r) => r.path))];
    return {
      description: `flipped ${results.length - failed.length} bit(s) in ${files.length} hostpath snapshot file(s) on ${node ?? 'the driver node'}`,
      details: { flips: results.length - failed.length, files: files.join(' '), failed: failed.length },
    };
  }

  async cleanup(): Promise<void> {
    if (!this.trial) return;
    try {
      for (const s of await this.trialSnapshots()) await deleteObject(this.kube, { apiVersion: SNAP, plural: 'volumesnapshots', namespace: s.metadata.namespace, name: s.metadata.name! });
      await deleteMatching(this.kube, { apiVersion: SNAP, plural: 'volumesnapshotcontents' }, `${runSelector(this.ctx.runId)},${TRIAL_LABEL}=${k8sName(this.trial)}`);
    } catch (err) {
      this.ctx.log(`${this.name}: cleanup: ${msg(err)}`);
    }
    this.groups = [];
    this.trial = '';
  }
}
