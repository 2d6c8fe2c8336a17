// Velero on Kubernetes. velero-fs: file-system backup (node agent, kopia uploader) of the proxies' pod volumes;
// velero-csi: CSI snapshots of the PVCs, optionally moved to object storage (snapshotMoveData). The tool's
// "repository" is a BackupStorageLocation of its own per trial (the cluster's location cloned with a
// pvbench/<run>/<trial> prefix). Backups and restores are velero.io/v1 objects followed by watch; a crash deletes
// the node-agent (or server) pod mid-operation, as a node failure or OOM kill would.
import type { ToolConfig } from '../config/schema.ts';
import type { VolumeSet } from '../platform/types.ts';
import type { RepositoryCheck } from '../suite/results.ts';
import type { Kube, KubeObject } from '../platform/kubernetes/client.ts';
import { createObject, deleteObject, ensureObject, findObject, getObject, listObjects } from '../platform/kubernetes/client.ts';
import type { KubeToolContext } from '../platform/kubernetes/context.ts';
import { msg } from '../platform/kubernetes/context.ts';
import type { BslSource, VeleroMode } from './velero-objects.ts';
import type { S3Target } from '../platform/kubernetes/object-store.ts';
import { RESULT_PREFIX, k8sName, parseLocation } from '../platform/kubernetes/objects.ts';
import { backupStorageLocation, veleroBackup, veleroRestore } from './velero-objects.ts';
import { s3Pod } from '../platform/kubernetes/object-store.ts';
import { parseResultLine } from '../platform/kubernetes/integrity.ts';
import { nodesOfClaims, runPod } from '../platform/kubernetes/pods.ts';
import type { Problem } from '../platform/kubernetes/preflight.ts';
import { checkAccess, checkApis, checkObject, checkSnapshotClass, formatProblems } from '../platform/kubernetes/preflight.ts';
import { phaseMetrics } from '../platform/kubernetes/resources.ts';
import type { UsageSummary } from '../platform/kubernetes/resources.ts';
import { observe, watchUntil } from '../platform/kubernetes/watch.ts';
import type { WatchState } from '../platform/kubernetes/watch.ts';
import { pickDistinct } from '../platform/local/fsutil.ts';
import { excerpt } from '../platform/secrets.ts';
import { ToolError } from './types.ts';
import type { BackupOutcome, BackupTool, OpHooks, Probe, RecoverOptions, RecoveryReport, RestoreOutcome, RunningOp } from './types.ts';
import { BACKUP_TERMINAL, DATA_MOVER_LABEL, DATA_TERMINAL, RESTORE_TERMINAL, V1, V2, byCompletion, serviceOfUrl, describeOutcome, locationConflict, operationProgress, transferDone, veleroOptions, volumeBytes, volumeOpKindOf } from './velero-status.ts';
import type { VeleroOptions, VolumeOpKind } from './velero-status.ts';
import { backupsOfLocation, checkLocation, deleteBackup, recoverLocation, repositories } from './velero-recovery.ts';
import type { VeleroScope } from './velero-recovery.ts';
import { withTimeline } from './velero-timeline.ts';

export class VeleroTool implements BackupTool {
  readonly name: string;
  readonly type: 'velero-fs' | 'velero-csi';
  private readonly ctx: KubeToolContext;
  private readonly config: ToolConfig;
  private opts: VeleroOptions | undefined;
  private readonly mode: VeleroMode;
  private trial = '';
  private bsl = '';
  private source: BslSource | undefined;
  private seq = 0;
  private readonly created: { plural: string; name: string }[] = [];

  constructor(config: ToolConfig, ctx: KubeToolContext) {
    this.name = config.name ?? config.type;
    this.type = config.type === 'velero-csi' ? 'velero-csi' : 'velero-fs';
    this.mode = this.type === 'velero-csi' ? 'csi' : 'fs';
    this.config = config;
    this.ctx = ctx;
  }

  private get o(): VeleroOptions {
    this.opts ??= veleroOptions(this.config);
    return this.opts;
  }

  private get kube(): Kube {
    return this.ctx.kube;
  }

  private get ns(): string {
    return this.o.namespace;
  }

  private get usesNodeAgent(): boolean {
    return this.mode === 'fs' || this.o.snapshotMoveData;
  }

  /** The kind of per-volume object that carries byte progress, if any. */
  private volumeOpKind(phase: 'backup' | 'restore'): VolumeOpKind | undefined {
    return volumeOpKindOf(this.mode, this.o.snapshotMoveData, phase);
  }

  // --- probe -----------------------------------------------------------------------------------------------------

  private async findSource(): Promise<{ source?: BslSource; problems: Problem[] }> {
    const list = await listObjects(this.kube, { apiVersion: V1, plural: 'backupstoragelocations', namespace: this.ns });
    const candidates = list.items.filter((i) => !i.metadata.labels?.['pvbench.dev/run']);
    const chosen = this.o.storageLocation
      ? candidates.find((i) => i.metadata.name === this.o.storageLocation)
      : (candidates.find((i) => i.spec?.default === true) ?? (candidates.length === 1 ? candidates[0] : undefined));
    if (!chosen) {
      const names = candidates.map((i) => i.metadata.name).join(', ') || 'none';
      return {
        problems: [
          {
            missing: this.o.storageLocation
              ? `BackupStorageLocation "${this.o.storageLocation}" in namespace ${this.ns} (there: ${names})`
              : `a default BackupStorageLocation in namespace ${this.ns} (there: ${names})`,
            fix: 'configure Velero with an object store (velero install --bucket ... --backup-location-config ...), or set the tool option storageLocation to the location to use',
          },
        ],
      };
    }
    const s = chosen.spec ?? {};
    const places = candidates.map((i) => ({ name: i.metadata.name!, bucket: String(i.spec?.objectStorage?.bucket ?? ''), prefix: String(i.spec?.objectStorage?.prefix ?? '') }));
    const conflict = locationConflict(this.o.bucket ?? String(s.objectStorage?.bucket ?? ''), this.o.prefix, places);
    if (conflict) return { problems: [conflict] };
    return {
      source: {
        provider: String(s.provider),
        bucket: String(s.objectStorage?.bucket ?? ''),
        prefix: s.objectStorage?.prefix,
        caCert: s.objectStorage?.caCert,
        config: s.config,
        credential: s.credential,
      },
      problems: [],
    };
  }

  async probe(): Promise<Probe> {
    try {
      const fixVelero = `install Velero ${this.usesNodeAgent ? 'with the node agent (velero install --use-node-agent ...)' : ''} in namespace ${this.ns} (https://velero.io/docs/main/basic-install/), or on kind set platform.install.velero and platform.install.minio`;
      const apis = [
        { apiVersion: V1, plural: 'backups', fix: fixVelero },
        { apiVersion: V1, plural: 'restores', fix: fixVelero },
        { apiVersion: V1, plural: 'backupstoragelocations', fix: fixVelero },
        { apiVersion: V1, plural: 'deletebackuprequests', fix: fixVelero },
        { apiVersion: V1, plural: 'backuprepositories', fix: fixVelero },
      ];
      if (this.mode === 'fs') apis.push({ apiVersion: V1, plural: 'podvolumebackups', fix: fixVelero }, { apiVersion: V1, plural: 'podvolumerestores', fix: fixVelero });
      if (this.o.snapshotMoveData) apis.push({ apiVersion: V2, plural: 'datauploads', fix: `${fixVelero} (Velero 1.12 or later for snapshotMoveData)` });
      if (this.mode === 'csi') {
        apis.push({ apiVersion: 'snapshot.storage.k8s.io/v1', plural: 'volumesnapshots', fix: 'install the CSI snapshot CRDs and snapshot controller (external-snapshotter), or on kind set platform.install.csiHostpath' });
      }
      const problems: Problem[] = await checkApis(this.kube, apis);
      if (problems.length) return { ok: false, reason: formatProblems(problems) };
      problems.push(...(await checkObject(this.kube, { apiVersion: 'apps/v1', plural: 'deployments', namespace: this.ns, name: 'velero' }, `the Velero server (Deployment ${this.ns}/velero)`, fixVelero)));
      if (this.usesNodeAgent) {
        problems.push(
          ...(await checkObject(this.kube, { apiVersion: 'apps/v1', plural: 'daemonsets', namespace: this.ns, name: 'node-agent' }, `Velero's node agent (DaemonSet ${this.ns}/node-agent)`, 're-run velero install with --use-node-agent')),
        );
      }
      const src = await this.findSource();
      problems.push(...src.problems);
      if (this.mode === 'csi') {
        const sc = this.ctx.storageClass();
        const optClass = typeof this.config.options.snapshotClass === 'string' ? this.config.options.snapshotClass : this.ctx.config.snapshotClass;
        const vsc = await checkSnapshotClass(this.kube, optClass, sc.provisioner);
        problems.push(...vsc.problems);
        if (vsc.snapshotClass && vsc.snapshotClass.metadata.labels?.['velero.io/csi-volumesnapshot-class'] !== 'true' && !optClass) {
          problems.push({
            missing: `the label velero.io/csi-volumesnapshot-class: "true" on VolumeSnapshotClass ${vsc.snapshotClass.metadata.name} (how Velero picks the class for driver ${sc.provisioner ?? '?'})`,
            fix: `kubectl label volumesnapshotclass ${vsc.snapshotClass.metadata.name} velero.io/csi-volumesnapshot-class=true`,
          });
        }
      }
      problems.push(
        ...(await checkAccess(this.kube, [
          { verb: 'create', group: 'velero.io', resource: 'backups', namespace: this.ns, why: 'start backups' },
          { verb: 'create', group: 'velero.io', resource: 'restores', namespace: this.ns, why: 'start restores' },
          { verb: 'create', group: 'velero.io', resource: 'backupstoragelocations', namespace: this.ns, why: 'give each trial its own repository prefix' },
          { verb: 'create', group: 'velero.io', resource: 'deletebackuprequests', namespace: this.ns, why: 'remove backups and their data' },
          { verb: 'delete', group: '', resource: 'pods', namespace: this.ns, why: 'inject the crash fault (delete the node-agent or server pod)' },
        ])),
      );
      if (problems.length) return { ok: false, reason: formatProblems(problems) };
      return { ok: true, version: await this.version() };
    } catch (err) {
      return { ok: false, reason: `cannot inspect Velero in namespace ${this.ns}: ${msg(err)}` };
    }
  }

  private async version(): Promise<string> {
    const dep = await getObject(this.kube, { apiVersion: 'apps/v1', plural: 'deployments', namespace: this.ns, name: 'velero' });
    const containers = (dep.spec?.template?.spec?.containers ?? []) as { name: string; image?: string }[];
    const image = (containers.find((c) => c.name === 'velero') ?? containers[0])?.image ?? '';
    const tag = image.includes(':') ? image.slice(image.lastIndexOf(':') + 1) : 'unknown';
    const what = this.mode === 'fs' ? 'file-system backup, kopia' : this.o.snapshotMoveData ? 'CSI snapshots + data mover' : 'CSI snapshots';
    return `${tag} (${what})`;
  }

  // --- repository --------------------------------------------------------------------------------------------------

  async init(trialId: string): Promise<void> {
    this.trial = trialId;
    this.seq = 0;
    const src = await this.findSource();
    if (!src.source) throw new ToolError(this.name, formatProblems(src.problems));
    this.source = src.source;
    this.bsl = k8sName(`pvbench-${this.ctx.runId}-${trialId}`);
    await ensureObject(this.kube, 'backupstoragelocations', backupStorageLocation({ name: this.bsl, namespace: this.ns, runId: this.ctx.runId, bucket: this.bucket(), prefix: this.prefix(), source: this.source }));
    this.created.push({ plural: 'backupstoragelocations', name: this.bsl });
    await watchUntil(this.kube, {
      ref: { apiVersion: V1, plural: 'backupstoragelocations', namespace: this.ns },
      name: this.bsl,
      what: `BackupStorageLocation ${this.ns}/${this.bsl} to become Available`,
      timeoutMs: this.ctx.timeouts.readyMs,
      check: (state) => (state.get(`${this.ns}/${this.bsl}`)?.status?.phase === 'Available' ? true : undefined),
      lastSeen: (state) => {
        const s = state.get(`${this.ns}/${this.bsl}`)?.status;
        return s ? `phase ${s.phase ?? '(none)'}${s.message ? `: ${s.message}` : ''}` : 'not found';
      },
    }).catch((err: unknown) => {
      throw new ToolError(this.name, `the trial's BackupStorageLocation did not become Available: ${msg(err)}`);
    });
  }

  // --- the operations ------------------------------------------------------------------------------------------------

  private async podsOf(kind: 'server' | 'node-agent'): Promise<KubeObject[]> {
    const ref = kind === 'server' ? { apiVersion: 'apps/v1', plural: 'deployments', namespace: this.ns, name: 'velero' } : { apiVersion: 'apps/v1', plural: 'daemonsets', namespace: this.ns, name: 'node-agent' };
    const owner = await findObject(this.kube, ref);
    const labels = (owner?.spec?.selector?.matchLabels ?? (kind === 'server' ? { deploy: 'velero' } : { name: 'node-agent' })) as Record<string, string>;
    const selector = Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const list = await listObjects(this.kube, { apiVersion: 'v1', plural: 'pods', namespace: this.ns }, { labelSelector: selector });
    return list.items.filter((p) => !p.metadata.deletionTimestamp);
  }

  /** Delete the pod doing the work: the node agent on the volumes' node, or the Velero server. */
  private async crash(op: 'backup' | 'restore', name: string, main: KubeObject | undefined, volumeOps: KubeObject[], volumeNodes: () => Promise<string[]>): Promise<string> {
    // The watched state may trail by a moment: read the phase the crash really hits.
    const now = await findObject(this.kube, { apiVersion: V1, plural: op === 'backup' ? 'backups' : 'restores', namespace: this.ns, name }).catch(() => undefined);
    const phase = (now ?? main)?.status?.phase ?? 'New';
    if (this.o.crashTarget === 'server') {
      const pods = await this.podsOf('server');
      const pod = pods[0];
      if (!pod?.metadata.name) throw new ToolError(this.name, `no Velero server pod to kill in ${this.ns}`);
      await deleteObject(this.kube, { apiVersion: 'v1', plural: 'pods', namespace: this.ns, name: pod.metadata.name }, { gracePeriodSeconds: 0 });
      return `deleted Velero server pod ${pod.metadata.name} (${op} in phase ${phase})`;
    }
    if (this.o.crashTarget === 'object-store') return `${await this.restartObjectStore()} (${op} in phase ${phase})`;
    if (this.o.crashTarget === 'data-mover') {
      const hit = await this.deleteDataMovers(op, name);
      if (hit) return `${hit} (${op} in phase ${phase})`;
      // Between two volumes no transfer is running: the node agent, which starts the next one, goes instead.
    }
    const working = new Set<string>();
    for (const v of volumeOps) {
      const node = (v.spec?.node ?? v.status?.node) as string | undefined;
      if (node && !DATA_TERMINAL.has(v.status?.phase)) working.add(node);
    }
    if (working.size === 0) for (const n of await volumeNodes()) working.add(n);
    const agents = await this.podsOf('node-agent');
    const victims = agents.filter((p) => working.size === 0 || working.has(p.spec?.nodeName));
    if (victims.length === 0) throw new ToolError(this.name, `no node-agent pod to kill in ${this.ns}${working.size ? ` on ${[...working].join(', ')}` : ''}`);
    for (const p of victims) await deleteObject(this.kube, { apiVersion: 'v1', plural: 'pods', namespace: this.ns, name: p.metadata.name! }, { gracePeriodSeconds: 0 });
    const names = victims.map((p) => `${p.metadata.name}${p.spec?.nodeName ? ` on ${p.spec.nodeName}` : ''}`).join(', ');
    return `deleted Velero node-agent pod ${names} (${op} in phase ${phase})`;
  }

  /**
   * The object store goes away for a while: the pods behind the in-cluster Service of the location's s3Url are
   * deleted (their controller starts them again), as an object-store restart or crash does mid-backup.
   */
  private async restartObjectStore(): Promise<string> {
    const url = this.source?.config?.s3Url;
    const svc = serviceOfUrl(url);
    if (!svc) throw new ToolError(this.name, `crashTarget object-store needs an object store inside the cluster, reached as http://<service>.<namespace>.svc...; the location's s3Url is ${url ?? 'not set'}`);
    const service = await getObject(this.kube, { apiVersion: 'v1', plural: 'services', namespace: svc.namespace, name: svc.name });
    const selector = Object.entries((service.spec?.selector ?? {}) as Record<string, string>)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    if (!selector) throw new ToolError(this.name, `service ${svc.namespace}/${svc.name} has no pod selector: its object store cannot be restarted from the cluster`);
    const pods = (await listObjects(this.kube, { apiVersion: 'v1', plural: 'pods', namespace: svc.namespace }, { labelSelector: selector })).items.filter((p) => !p.metadata.deletionTimestamp);
    if (pods.length === 0) throw new ToolError(this.name, `no pod behind service ${svc.namespace}/${svc.name} (${selector}) to restart`);
    for (const p of pods) await deleteObject(this.kube, { apiVersion: 'v1', plural: 'pods', namespace: svc.namespace, name: p.metadata.name! }, { gracePeriodSeconds: 0 });
    return `deleted object-store pod${pods.length > 1 ? 's' : ''} ${pods.map((p) => p.metadata.name).join(', ')} of service ${svc.namespace}/${svc.name}`;
  }

  /**
   * Deletes the pod moving the bytes of a volume operation that is still transferring: not one that has reported all
   * its bytes (it is finishing, and Velero 1.18 can leave its operation InProgress for good when the pod goes then),
   * but the next one once its pod is up. Waits up to 10 s for such a pod; returns what was deleted, or undefined.
   */
  private async deleteDataMovers(op: 'backup' | 'restore', name: string): Promise<string | undefined> {
    const kind = this.volumeOpKind(op);
    const label = kind ? DATA_MOVER_LABEL[kind.plural] : undefined;
    if (!kind || !label) return undefined;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ops = (await listObjects(this.kube, { apiVersion: kind.apiVersion, plural: kind.plural, namespace: this.ns }, { labelSelector: `${kind.label}=${name}` })).items;
      const transferring = new Set(ops.filter((v) => !DATA_TERMINAL.has(v.status?.phase) && !transferDone(v)).map((v) => v.metadata.name!));
      const pods = transferring.size
        ? (await listObjects(this.kube, { apiVersion: 'v1', plural: 'pods', namespace: this.ns }, { labelSelector: label })).items.filter(
            (p) => !p.metadata.deletionTimestamp && transferring.has(p.metadata.labels?.[label] ?? ''),
          )
        : [];
      if (pods.length) {
        for (const p of pods) await deleteObject(this.kube, { apiVersion: 'v1', plural: 'pods', namespace: this.ns, name: p.metadata.name! }, { gracePeriodSeconds: 0 });
        return `deleted Velero data-mover pod ${pods.map((p) => `${p.metadata.name} (${kind.plural.replace(/s$/, '')} ${p.metadata.labels?.[label]})`).join(', ')}`;
      }
      if (Date.now() >= deadline) return undefined;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Create a Backup or Restore, follow it and its volume operations until a terminal phase. */
  private async follow(
    phase: 'backup' | 'restore',
    obj: KubeObject,
    expectedVolumes: number,
    timeoutMs: number,
    volumeNodes: () => Promise<string[]>,
    hooks: OpHooks | undefined,
  ): Promise<{ final: KubeObject; volumeOps: KubeObject[]; wallMs: number; usage: UsageSummary }> {
    const name = obj.metadata.name!;
    const plural = phase === 'backup' ? 'backups' : 'restores';
    const sampler = this.ctx.sampler([{ namespace: this.ns }]);
    await sampler.start();
    const opKind = this.volumeOpKind(phase);
    const ops = opKind
      ? observe(this.kube, { ref: { apiVersion: opKind.apiVersion, plural: opKind.plural, namespace: this.ns }, labelSelector: `${opKind.label}=${name}`, what: `${opKind.plural} of ${name}`, timeoutMs })
      : undefined;
    const volumeOps = () => [...(ops?.latest().values() ?? [])];
    let latest: KubeObject | undefined;
    let finished = false;
    const started = Date.now();
    try {
      await createObject(this.kube, plural, obj);
      this.created.push({ plural, name });
      const op: RunningOp = {
        describe: () => `velero ${phase} ${this.ns}/${name}`,
        progress: async () => (finished ? 1 : operationProgress(latest, volumeOps(), expectedVolumes)),
        kill: () => this.crash(phase, name, latest, volumeOps(), volumeNodes),
      };
      hooks?.onStart?.(op);
      const terminal: readonly string[] = phase === 'backup' ? BACKUP_TERMINAL : RESTORE_TERMINAL;
      const final = await watchUntil(this.kube, {
        ref: { apiVersion: V1, plural, namespace: this.ns },
        name,
        what: `${phase} ${this.ns}/${name} to finish`,
        timeoutMs,
        signal: hooks?.signal,
        check: (state: WatchState) => {
          const o = state.get(`${this.ns}/${name}`);
          if (o) latest = o;
          return o && terminal.includes(o.status?.phase) ? o : undefined;
        },
        lastSeen: (state) => {
          const o = state.get(`${this.ns}/${name}`);
          return o ? `phase ${o.status?.phase ?? 'New'}, ${Math.round(operationProgress(o, volumeOps(), expectedVolumes) * 100)}%` : 'not found';
        },
      }).catch((err: unknown) => {
        throw new ToolError(this.name, `${phase} ${name}: ${msg(err)}`);
      });
      finished = true;
      const wallMs = Date.now() - started;
      // Velero's own timestamps have second resolution: the observed time is the measurement, theirs a cross-check.
      const serverMs = Date.parse(final.status?.completionTimestamp ?? '') - Date.parse(final.status?.startTimestamp ?? '');
      this.ctx.log(`${this.name}: ${phase} ${name} ${final.status?.phase} after ${(wallMs / 1000).toFixed(1)} s${Number.isFinite(serverMs) ? ` (Velero's timestamps: ${Math.round(serverMs / 1000)} s)` : ''}`);
      // The volume operations' final status can trail the Backup's by a moment: one more read.
      let vols = volumeOps();
      if (opKind) {
        vols = await listObjects(this.kube, { apiVersion: opKind.apiVersion, plural: opKind.plural, namespace: this.ns }, { labelSelector: `${opKind.label}=${name}` })
          .then((l) => l.items)
          .catch(() => vols);
      }
      return { final, volumeOps: vols, wallMs, usage: await sampler.stop() };
    } finally {
      finished = true;
      await ops?.stop();
      await sampler.stop().catch(() => undefined);
    }
  }

  async backup(source: VolumeSet, hooks?: OpHooks): Promise<BackupOutcome> {
    if (!this.bsl) throw new ToolError(this.name, 'init() must run before backup()');
    const { namespace: srcNs, selector } = parseLocation(source.location);
    const [, setLabel = ''] = selector.split('=');
    const name = k8sName(`${this.bsl}-b${++this.seq}`);
    const obj = veleroBackup({
      name,
      namespace: this.ns,
      runId: this.ctx.runId,
      trial: this.trial,
      storageLocation: this.bsl,
      includedNamespace: srcNs,
      setLabel,
      mode: this.mode,
      snapshotMoveData: this.o.snapshotMoveData,
      parallelFilesUpload: this.o.parallelFilesUpload,
      timeoutSeconds: Math.ceil(this.ctx.timeouts.backupMs / 1000),
    });
    const nodes = async () => [...new Set((await nodesOfClaims(this.kube, srcNs)).values())];
    const r = await this.follow('backup', obj, this.usesNodeAgent ? source.volumes.length : 0, this.ctx.timeouts.backupMs, nodes, hooks);
    if (r.final.status?.phase !== 'Completed') throw new ToolError(this.name, describeOutcome('backup', r.final, r.volumeOps), null, excerpt(JSON.stringify(r.final.status ?? {}), 600));
    const bytes = volumeBytes(r.volumeOps);
    return {
      snapshotId: name,
      metrics: withTimeline(phaseMetrics({ wallMs: r.wallMs, usage: r.usage, bytesProcessed: bytes.total, bytesRead: bytes.done, bytesWritten: bytes.incremental }), r.final, r.volumeOps),
    };
  }

  async restore(snapshotId: string, target: VolumeSet, hooks?: OpHooks): Promise<RestoreOutcome> {
    const backup = await findObject(this.kube, { apiVersion: V1, plural: 'backups', namespace: this.ns, name: snapshotId });
    if (!backup) throw new ToolError(this.name, `no Velero backup ${this.ns}/${snapshotId} to restore`);
    const srcNs = (backup.spec?.includedNamespaces as string[] | undefined)?.[0];
    if (!srcNs) throw new ToolError(this.name, `backup ${snapshotId} names no namespace to map`);
    const { namespace: targetNs } = parseLocation(target.location);
    const name = k8sName(`${this.bsl || 'pvbench'}-r${++this.seq}`);
    const obj = veleroRestore({ name, namespace: this.ns, runId: this.ctx.runId, trial: this.trial, backupName: snapshotId, namespaceMapping: { [srcNs]: targetNs } });
    const nodes = async () => [...new Set((await nodesOfClaims(this.kube, targetNs)).values())];
    const r = await this.follow('restore', obj, this.usesNodeAgent ? target.volumes.length : 0, this.ctx.timeouts.restoreMs, nodes, hooks);
    if (r.final.status?.phase !== 'Completed') throw new ToolError(this.name, describeOutcome('restore', r.final, r.volumeOps), null, excerpt(JSON.stringify(r.final.status ?? {}), 600));
    const bytes = volumeBytes(r.volumeOps);
    return { metrics: withTimeline(phaseMetrics({ wallMs: r.wallMs, usage: r.usage, bytesProcessed: bytes.total, bytesRead: bytes.done, bytesWritten: bytes.done }), r.final, r.volumeOps) };
  }

  /** The trial's location, for the functions of velero-recovery.ts. */
  private get scope(): VeleroScope {
    return {
      kube: this.kube,
      ns: this.ns,
      runId: this.ctx.runId,
      bsl: this.bsl,
      usesNodeAgent: this.usesNodeAgent,
      readyMs: this.ctx.timeouts.readyMs,
      volumeOpKind: (phase) => this.volumeOpKind(phase),
      createdRestores: () => this.created.filter((c) => c.plural === 'restores').map((c) => c.name),
    };
  }

  // --- check, recovery -------------------------------------------------------------------------------------------

  /** Velero has no content check: its BackupRepository status and the latest backup's own validation are it. */
  check(): Promise<RepositoryCheck> {
    return checkLocation(this.scope);
  }

  /** What an operator does after a crash: wait for Velero to come back, cancel orphaned volume operations, drop partial backups. */
  recover(opts: RecoverOptions = {}): Promise<RecoveryReport> {
    return recoverLocation(this.scope, opts);
  }

  async snapshots(): Promise<string[]> {
    if (!this.bsl) return [];
    return (await backupsOfLocation(this.scope))
      .filter((b) => b.status?.phase === 'Completed')
      .sort(byCompletion)
      .map((b) => b.metadata.name!);
  }

  // --- object storage ---------------------------------------------------------------------------------------------

  private s3Target(): S3Target {
    const src = this.source;
    if (!src) throw new ToolError(this.name, 'init() must run first');
    if (src.provider !== 'aws' && src.provider !== 'velero.io/aws') {
      throw new ToolError(this.name, `reading the repository needs an S3-compatible location; this one's provider is ${src.provider}`);
    }
    const region = src.config?.region ?? 'us-east-1';
    const endpoint = src.config?.s3Url ?? `https://s3.${region}.amazonaws.com`;
    const secret = this.o.credentialsSecret
      ? { name: this.o.credentialsSecret, key: this.o.credentialsKey ?? 'cloud' }
      : (src.credential ?? { name: 'cloud-credentials', key: 'cloud' });
    return { endpoint, bucket: this.bucket(), region, profile: src.config?.profile, secret };
  }

  private bucket(): string {
    return this.o.bucket ?? this.source?.bucket ?? '';
  }

  /** The trial's own prefix: beside the source location's data, never inside it (see locationConflict). */
  private prefix(): string {
    return `${this.o.prefix}/${this.ctx.runId}/${k8sName(this.trial)}`;
  }

  private async s3(args: string[]): Promise<string> {
    const pod = s3Pod({ name: k8sName(`pvbench-s3-${this.ctx.runId}-${Date.now().toString(36)}`), namespace: this.ns, runId: this.ctx.runId, image: this.ctx.podImage, target: this.s3Target(), args });
    return runPod(this.kube, pod, this.ctx.timeouts.readyMs);
  }

  private async objects(sub = ''): Promise<{ key: string; size: number }[]> {
    return parseResultLine<{ key: string; size: number }[]>(await this.s3(['list', `${this.prefix()}/${sub}`]), RESULT_PREFIX);
  }

  /** Bytes stored under the trial's prefix (backup metadata and, for the node agent, the kopia repository). */
  async repositorySize(): Promise<number> {
    if (!this.bsl) return 0;
    try {
      return (await this.objects()).reduce((s, o) => s + o.size, 0);
    } catch (err) {
      this.ctx.log(`${this.name}: repository size unavailable: ${msg(err)}`);
      return 0;
    }
  }

  /** Flip bits in the kopia repository's pack blobs (the backed-up file data) in object storage. */
  async corruptRepository(bitFlips: number, random: () => number) {
    if (!this.usesNodeAgent) {
      throw new ToolError(this.name, 'velero-csi without snapshotMoveData keeps the data in CSI snapshots, not in object storage: corrupt-repository cannot reach it through Velero');
    }
    const objects = (await this.objects('kopia/')).filter((o) => o.size > 0);
    const packs = objects.filter((o) => /^p[0-9a-f]/.test(o.key.slice(o.key.lastIndexOf('/') + 1)));
    const pool = packs.length ? packs : objects.filter((o) => !/kopia\.(repository|blobcfg)$/.test(o.key));
    if (pool.length === 0) throw new ToolError(this.name, `no repository data under ${this.prefix()}/kopia/ to corrupt`);
    const flips: { key: string; offset: number; bit: number }[] = [];
    const chosen = pickDistinct(pool, Math.min(bitFlips, pool.length), random);
    for (let i = 0; i < bitFlips; i++) {
      const o = chosen[i % chosen.length]!;
      flips.push({ key: o.key, offset: Math.floor(random() * o.size), bit: Math.floor(random() * 8) });
    }
    const done = parseResultLine<{ key: string; offset: number; bit: number }[]>(await this.s3(['flip', JSON.stringify(flips)]), RESULT_PREFIX);
    const keys = [...new Set(done.map((d) => d.key.slice(d.key.lastIndexOf('/') + 1)))];
    return {
      description: `flipped ${done.length} bit(s) in ${keys.length} kopia ${packs.length ? 'pack blob(s)' : 'blob(s)'} of ${pool.length} in object storage`,
      details: { flips: done.length, blobs: keys.join(' '), candidates: pool.length },
    };
  }

  async cleanup(): Promise<void> {
    if (!this.bsl) return;
    const errors: string[] = [];
    try {
      // DeleteBackupRequests remove the backups' data from object storage, then the Backup objects.
      for (const b of await backupsOfLocation(this.scope)) {
        await deleteBackup(this.scope, b.metadata.name!, Math.min(this.ctx.timeouts.readyMs, 120_000)).catch((err: unknown) => errors.push(msg(err)));
      }
    } catch (err) {
      errors.push(msg(err));
    }
    for (const c of this.created.splice(0)) {
      if (c.plural === 'backups') continue;
      await deleteObject(this.kube, { apiVersion: V1, plural: c.plural, namespace: this.ns, name: c.name }).catch((err: unknown) => errors.push(msg(err)));
    }
    for (const r of await repositories(this.scope).catch(() => [])) {
      await deleteObject(this.kube, { apiVersion: V1, plural: 'backuprepositories', namespace: this.ns, name: r.metadata.name! }).catch(() => undefined);
    }
    // What the deleted backups leave behind (the kopia repository, its indexes and locks): the trial's prefix is
    // pvbench's alone, so all of it goes.
    try {
      await this.s3(['rm', `${this.prefix()}/`]);
    } catch (err) {
      errors.push(`removing ${this.bucket()}/${this.prefix()}/: ${msg(err)}`);
    }
    if (errors.length) this.ctx.log(`${this.name}: cleanup of ${this.bsl}: ${errors.slice(0, 3).join('; ')}`);
    this.bsl = '';
  }
}
