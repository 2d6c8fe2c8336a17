// The Kubernetes platform: a volume set is a namespace of PVCs ("proxy-0" ...), each held by a proxy pod (Velero's
// file-system backup only reads volumes of running pods). Seeding, churn and manifests run pvbench's own CLI inside
// pods (node:24-slim with the bundled CLI shipped in ConfigMaps), so the data is byte-identical to the local
// platform's. Everything created carries the run label; cleanup deletes by that label.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { KubernetesPlatformConfig, Suite, ToolConfig, WorkloadConfig } from '../../config/schema.ts';
import type { Manifest, ManifestList } from '../../metrics/types.ts';
import type { FaultRecord, IntegrityResult } from '../../suite/results.ts';
import type { BackupTool } from '../../tools/types.ts';
import { UnsupportedTool } from '../../tools/unsupported.ts';
import { VeleroTool } from '../../tools/velero.ts';
import { CsiSnapshotTool } from '../../tools/csi-snapshot.ts';
import { KubestashTool } from '../../tools/kubestash.ts';
import { K10Tool } from '../../tools/k10.ts';
import { accessLogChunk, ACCESS_LOG, volumeName } from '../../workloads/mesh-proxy.ts';
import { deriveSeed, seededRandom } from '../../workloads/random.ts';
import { pickDistinct } from '../local/fsutil.ts';
import type { NodeOutage, Platform, VolumeSet, Writer } from '../types.ts';
import { kindNodeOutage, kindRuntime } from './node-outage.ts';
import type { Spawner } from './spawn.ts';
import { spawnProcess } from './spawn.ts';
import type { Kube, KubeObject } from './client.ts';
import { createObject, deleteMatching, deleteObject, ensureObject, isNotFound, listObjects } from './client.ts';
import type { Cluster, ClusterDeps } from './cluster.ts';
import { connectCluster } from './cluster.ts';
import { installComponents } from './install.ts';
import type { KubeToolContext } from './context.ts';
import { msg } from './context.ts';
import { acceptPrefixes, diffManifests, integrityFromDiff, manifestList } from '../../metrics/manifest.ts';
import { mergeVolumeManifests, parseManifestOutput, parseResultLine, splitPath } from './integrity.ts';
import type { CliBundle, CorruptAction } from './objects.ts';
import { DEFAULT_POD_IMAGE, RESULT_PREFIX, RUN_LABEL, churnCommand, cliConfigMaps, corruptCommand, feedConfigMap, k8sName, manifestCommand, namespace, parseLocation, prefixHashCommand, proxyPod, pvc, runSelector, seedCommand, setLocation, setNamespace, taskJob, taskPod, volumeSize, writerCommand } from './objects.ts';
import { nodesOfClaims, runPod, waitForJob, waitPodGone, waitPodsReady } from './pods.ts';
import { PreflightError, forgetDiscovery, platformPreflight } from './preflight.ts';
import type { MetricsSource, PodTarget } from './resources.ts';
import { ResourceSampler } from './resources.ts';
import { watchUntil } from './watch.ts';

export interface KubernetesPlatformDeps {
  /** An already connected cluster (tests); otherwise prepare() connects per the config. */
  cluster?: Cluster;
  clusterDeps?: ClusterDeps;
  /** The gzipped CLI bundle to ship into pods; default: dist/cli/index.js next to this code. */
  cliBundle?: () => Promise<Buffer>;
  runId?: string;
  podImage?: string;
  log?: (msg: string) => void;
  samplerIntervalMs?: number;
  metricsSource?: MetricsSource;
  /** Runs the container runtime for node outages (tests substitute one). */
  spawner?: Spawner;
  /** Told before a kind cluster is created (unless the suite keeps it), so a post step can delete it after a cancel. */
  onCreated?: (what: { kind: 'kind-cluster'; value: string }) => void;
}

/** Where the bundled CLI is: this file is inside it (dist/*\/index.js), or the repository's dist/ when run from src/. */
export function findCliBundle(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PVBENCH_CLI_BUNDLE) return resolve(env.PVBENCH_CLI_BUNDLE);
  const here = fileURLToPath(import.meta.url);
  const candidates = [join(dirname(here), '..', 'cli', 'index.js'), resolve(dirname(here), '..', '..', '..', 'dist', 'cli', 'index.js')];
  return candidates.find((c) => existsSync(c));
}

export async function defaultCliBundle(): Promise<Buffer> {
  const path = findCliBundle();
  if (!path) throw new Error('the pvbench CLI bundle (dist/cli/index.js) is needed inside the cluster\'s pods and was not found. Fix: run `node scripts/build.ts`, or set PVBENCH_CLI_BUNDLE to the bundle');
  return gzipSync(await readFile(path), { level: 9 });
}

interface SetInfo {
  namespace: string;
  seeded: boolean;
}

export class KubernetesPlatform implements Platform {
  readonly kind = 'kubernetes' as const;
  private readonly cfg: KubernetesPlatformConfig;
  private readonly suite: Suite | undefined;
  private readonly deps: KubernetesPlatformDeps;
  readonly runId: string;
  private readonly podImage: string;
  private cluster: Cluster | undefined;
  private storage: { name?: string; provisioner?: string } = {};
  private cliGz: Promise<Buffer> | undefined;
  private readonly cliByNamespace = new Map<string, Promise<CliBundle>>();
  private readonly sets = new Map<string, SetInfo>();
  private seq = 0;
  private prepared: Promise<void> | undefined;
  private cleaned = false;

  constructor(cfg: KubernetesPlatformConfig, suite?: Suite, deps: KubernetesPlatformDeps = {}) {
    this.cfg = cfg;
    this.suite = suite;
    this.deps = deps;
    this.runId = deps.runId ?? randomBytes(5).toString('hex');
    this.podImage = deps.podImage ?? process.env.PVBENCH_POD_IMAGE ?? cfg.images?.pod ?? DEFAULT_POD_IMAGE;
    this.cluster = deps.cluster;
  }

  private log(m: string): void {
    if (this.deps.log) this.deps.log(m);
    else process.stderr.write(`pvbench[kubernetes]: ${m}\n`);
  }

  describe(): string {
    return `kubernetes: ${this.cluster ? this.cluster.describe() : this.cfg.cluster.mode === 'kind' ? `kind cluster "${this.cfg.cluster.name}"` : 'existing cluster'} (namespaces ${this.cfg.namespace}-*, run ${this.runId})`;
  }

  /** The kind cluster this run created (so the action's post step can delete it after a cancelled job), if any. */
  created(): { kind: 'kind-cluster'; value: string }[] {
    const name = this.createdKindCluster;
    return name ? [{ kind: 'kind-cluster', value: name }] : [];
  }

  get createdKindCluster(): string | undefined {
    return this.cluster?.created && this.cfg.cluster.mode === 'kind' && !this.cfg.cluster.keep ? this.cfg.cluster.name : undefined;
  }

  /** Selects everything this run created in the cluster (for a cleanup outside the process). */
  get runLabelSelector(): string {
    return runSelector(this.runId);
  }

  get kube(): Kube {
    if (!this.cluster) throw new Error('KubernetesPlatform.prepare() must run first');
    return this.cluster.kube;
  }

  private get readyMs(): number {
    return this.cfg.timeouts.readySeconds * 1000;
  }

  prepare(): Promise<void> {
    this.prepared ??= this.doPrepare();
    return this.prepared;
  }

  private async doPrepare(): Promise<void> {
    const onCreating = (name: string) => {
      if (this.cfg.cluster.mode === 'kind' && !this.cfg.cluster.keep) this.deps.onCreated?.({ kind: 'kind-cluster', value: name });
    };
    this.cluster ??= await connectCluster(this.cfg.cluster, { log: (m) => this.log(m), onCreating, ...this.deps.clusterDeps });
    const { install } = this.cfg;
    if (install.velero || install.minio || install.csiHostpath) {
      const done = await installComponents(this.cluster, { install, images: this.cfg.images, runId: this.runId, readyTimeoutMs: this.readyMs }, { log: (m) => this.log(m), ...this.deps.clusterDeps });
      if (done.length) forgetDiscovery(this.kube);
    }
    const pre = await platformPreflight(this.kube, { namespace: this.cfg.namespace, storageClass: this.cfg.storageClass });
    for (const w of pre.warnings) this.log(`warning: ${w}`);
    if (!pre.ok) throw new PreflightError(`the cluster is not ready for pvbench (${this.cluster.describe()})`, pre.problems);
    this.storage = { name: pre.storageClass?.metadata.name, provisioner: pre.storageClass?.provisioner as string | undefined };
    this.log(`using ${this.cluster.describe()}, storage class ${this.storage.name ?? '(default)'}, run label ${RUN_LABEL}=${this.runId}`);
  }

  // --- helpers ------------------------------------------------------------------------------------------------

  private workload(): WorkloadConfig | undefined {
    return this.suite?.workload;
  }

  private async ensureNamespace(ns: string, setId: string): Promise<void> {
    const created = await ensureObject(this.kube, 'namespaces', namespace(ns, this.runId, setId));
    if (created.metadata.labels?.[RUN_LABEL] !== this.runId) {
      throw new Error(`namespace ${ns} exists and does not belong to this run (label ${RUN_LABEL}=${created.metadata.labels?.[RUN_LABEL] ?? 'none'}); delete it or change platform.namespace`);
    }
    if (created.metadata.deletionTimestamp) throw new Error(`namespace ${ns} is still being deleted from an earlier run; wait for it or change platform.namespace`);
  }

  /** The CLI bundle's ConfigMaps in a namespace (created once per namespace). */
  private cli(ns: string): Promise<CliBundle> {
    let p = this.cliByNamespace.get(ns);
    if (!p) {
      p = (async () => {
        this.cliGz ??= (this.deps.cliBundle ?? defaultCliBundle)();
        const { bundle, objects } = cliConfigMaps(ns, this.runId, await this.cliGz);
        for (const o of objects) await ensureObject(this.kube, 'configmaps', o);
        return bundle;
      })();
      p.catch(() => this.cliByNamespace.delete(ns));
      this.cliByNamespace.set(ns, p);
    }
    return p;
  }

  private name(prefix: string): string {
    return k8sName(`${prefix}-${++this.seq}-${randomBytes(2).toString('hex')}`);
  }

  private async existingClaims(ns: string): Promise<Set<string>> {
    const list = await listObjects(this.kube, { apiVersion: 'v1', plural: 'persistentvolumeclaims', namespace: ns });
    return new Set(list.items.filter((i) => !i.metadata.deletionTimestamp).map((i) => i.metadata.name!));
  }

  private async runJobs(ns: string, jobs: KubeObject[]): Promise<void> {
    for (const j of jobs) await createObject(this.kube, 'jobs', j);
    await Promise.all(jobs.map((j) => waitForJob(this.kube, ns, j.metadata.name!, this.readyMs)));
  }

  // --- Platform ---------------------------------------------------------------------------------------------------

  async seedVolumes(id: string, workload: WorkloadConfig, seed: number): Promise<VolumeSet> {
    await this.prepare();
    const ns = setNamespace(this.cfg.namespace, id);
    await this.ensureNamespace(ns, id);
    this.sets.set(id, { namespace: ns, seeded: true });
    const cli = await this.cli(ns);
    const volumes = Array.from({ length: workload.proxies }, (_, i) => volumeName(i));
    const size = volumeSize(workload);
    for (const v of volumes) await createObject(this.kube, 'persistentvolumeclaims', pvc({ name: v, namespace: ns, runId: this.runId, setId: id, storageClass: this.storage.name, size }));
    // Seeding runs as Jobs without the set label: a backup of the set never carries them (a restored seeding
    // pod would rewrite the restored data and hide a broken restore).
    await this.runJobs(
      ns,
      volumes.map((v, i) =>
        taskJob({
          name: `seed-${v}`,
          namespace: ns,
          runId: this.runId,
          role: 'seed',
          image: this.podImage,
          command: seedCommand(i, seed, workload),
          mounts: [{ claim: v, mountPath: '/data' }],
          cli,
          activeDeadlineSeconds: this.cfg.timeouts.readySeconds,
        }),
      ),
    );
    for (const v of volumes) await createObject(this.kube, 'pods', proxyPod({ namespace: ns, runId: this.runId, setId: id, volume: v, image: this.podImage }));
    await waitPodsReady(this.kube, ns, volumes, this.readyMs);
    return { id, location: setLocation(ns, id), volumes };
  }

  async emptyVolumes(id: string, like: VolumeSet): Promise<VolumeSet> {
    await this.prepare();
    const ns = setNamespace(this.cfg.namespace, id);
    await this.ensureNamespace(ns, id);
    this.sets.set(id, { namespace: ns, seeded: false });
    await this.cli(ns);
    // No PVCs: the restore creates them (Velero restores them with namespaceMapping; CSI restores create them
    // from snapshots), named like the source's volumes.
    return { id, location: setLocation(ns, id), volumes: [...like.volumes] };
  }

  async churn(volumes: VolumeSet, workload: WorkloadConfig, seed: number): Promise<void> {
    const { namespace: ns } = parseLocation(volumes.location);
    const cli = await this.cli(ns);
    const nodes = await nodesOfClaims(this.kube, ns);
    await this.runJobs(
      ns,
      volumes.volumes.map((v) =>
        taskJob({
          name: this.name(`churn-${v}`),
          namespace: ns,
          runId: this.runId,
          role: 'churn',
          image: this.podImage,
          command: churnCommand(Number(v.replace(/^proxy-/, '')), seed, workload, 1),
          mounts: [{ claim: v, mountPath: '/data' }],
          cli,
          nodeName: nodes.get(v),
          activeDeadlineSeconds: this.cfg.timeouts.readySeconds,
        }),
      ),
    );
  }

  async manifest(volumes: VolumeSet): Promise<ManifestList> {
    const { namespace: ns } = parseLocation(volumes.location);
    const [cli, nodes, claims] = await Promise.all([this.cli(ns), nodesOfClaims(this.kube, ns), this.existingClaims(ns)]);
    const parts = await Promise.all(
      volumes.volumes.map(async (v) => {
        // A volume the restore did not create has no files: verify reports them all missing.
        if (!claims.has(v)) return { volume: v, manifest: { files: [], bytes: 0 } };
        const pod = taskPod({
          name: this.name(`manifest-${v}`),
          namespace: ns,
          runId: this.runId,
          role: 'manifest',
          image: this.podImage,
          command: manifestCommand('/data'),
          mounts: [{ claim: v, mountPath: '/data', readOnly: true }],
          cli,
          nodeName: nodes.get(v),
        });
        return { volume: v, manifest: parseManifestOutput(await runPod(this.kube, pod, this.readyMs)) };
      }),
    );
    return mergeVolumeManifests(parts);
  }

  async verify(volumes: VolumeSet, wanted: Manifest, opts?: { appendOnly?: (path: string) => boolean; prefixSource?: VolumeSet }): Promise<IntegrityResult> {
    // Manifests on Kubernetes come from verifier pods' output: in memory already.
    const expected = await manifestList(wanted);
    const actual = await this.manifest(volumes);
    let diff = diffManifests(expected, actual);
    const appendOnly = opts?.appendOnly;
    const source = opts?.prefixSource;
    if (appendOnly && source && diff.mismatched.length > 0) {
      const got = new Map(actual.files.map((f) => [f.path, f]));
      const byVolume = new Map<string, { path: string; rel: string; length: number; sha256: string }[]>();
      for (const p of diff.mismatched) {
        const f = got.get(p);
        if (!f || !appendOnly(p)) continue;
        const { volume, rel } = splitPath(p);
        byVolume.set(volume, [...(byVolume.get(volume) ?? []), { path: p, rel, length: f.size, sha256: f.sha256 }]);
      }
      const { namespace: sourceNs } = parseLocation(source.location);
      const nodes = await nodesOfClaims(this.kube, sourceNs);
      const ok = new Set<string>();
      await Promise.all(
        [...byVolume].map(async ([volume, files]) => {
          const pod = taskPod({
            name: this.name(`prefix-${volume}`),
            namespace: sourceNs,
            runId: this.runId,
            role: 'prefix',
            image: this.podImage,
            command: prefixHashCommand(files.map((f) => ({ path: f.rel, length: f.length }))),
            mounts: [{ claim: volume, mountPath: '/source', readOnly: true }],
            nodeName: nodes.get(volume),
          });
          const hashes = parseResultLine<{ path: string; size: number; sha256: string }[]>(await runPod(this.kube, pod, this.readyMs), RESULT_PREFIX);
          for (const f of files) {
            const h = hashes.find((x) => x.path === f.rel);
            if (h && h.size === f.length && h.sha256 === f.sha256) ok.add(f.path);
          }
        }),
      );
      diff = acceptPrefixes(diff, ok);
    }
    return integrityFromDiff(expected, actual, diff);
  }

  async corruptVolume(volumes: VolumeSet, plan: { bitFlips: number; truncate: number; delete: number }, random: () => number): Promise<Pick<FaultRecord, 'description' | 'details'>> {
    const { namespace: ns } = parseLocation(volumes.location);
    const m = await this.manifest(volumes);
    const sizes = new Map(m.files.map((f) => [f.path, f.size]));
    const files = m.files.map((f) => f.path);
    const chosen = pickDistinct(files, plan.bitFlips + plan.truncate + plan.delete, random);
    const flipped = chosen.slice(0, plan.bitFlips);
    const truncated = chosen.slice(plan.bitFlips, plan.bitFlips + plan.truncate);
    const deleted = chosen.slice(plan.bitFlips + plan.truncate);
    const actions = new Map<string, CorruptAction[]>();
    const add = (path: string, a: Omit<CorruptAction, 'path'>) => {
      const { volume, rel } = splitPath(path);
      actions.set(volume, [...(actions.get(volume) ?? []), { ...a, path: rel }]);
    };
    for (const f of flipped) {
      const size = sizes.get(f) ?? 0;
      if (size === 0) continue;
      add(f, { op: 'flip', offset: Math.floor(random() * size), bit: Math.floor(random() * 8) });
    }
    for (const f of truncated) add(f, { op: 'truncate' });
    for (const f of deleted) add(f, { op: 'delete' });
    const nodes = await nodesOfClaims(this.kube, ns);
    const failures: string[] = [];
    await Promise.all(
      [...actions].map(async ([volume, list]) => {
        const pod = taskPod({
          name: this.name(`corrupt-${volume}`),
          namespace: ns,
          runId: this.runId,
          role: 'corrupt',
          image: this.podImage,
          command: corruptCommand(list),
          mounts: [{ claim: volume, mountPath: '/data' }],
          nodeName: nodes.get(volume),
        });
        const results = parseResultLine<(CorruptAction & { ok: boolean; error?: string })[]>(await runPod(this.kube, pod, this.readyMs), RESULT_PREFIX);
        for (const r of results) if (!r.ok) failures.push(`${volume}/${r.path}: ${r.error ?? 'failed'}`);
      }),
    );
    if (failures.length) throw new Error(`corrupting the volumes failed: ${failures.slice(0, 3).join('; ')}`);
    return {
      description: `flipped a bit in ${flipped.length}, truncated ${truncated.length} to half, deleted ${deleted.length} of ${files.length} files`,
      details: { bitFlips: flipped.join(' '), truncated: truncated.join(' '), deleted: deleted.join(' '), files: files.length },
    };
  }

  async startWriter(volumes: VolumeSet, writesPerSecond: number, seed: number): Promise<Writer> {
    const { namespace: ns } = parseLocation(volumes.location);
    const nodes = await nodesOfClaims(this.kube, ns);
    const perPod = writesPerSecond / Math.max(1, volumes.volumes.length);
    const pods: string[] = [];
    for (const [i, v] of volumes.volumes.entries()) {
      const feed = this.name(`feed-${v}`);
      const r = seededRandom(deriveSeed(seed, 'writer', i));
      // 400 lines (~90 KB) per volume, cycled: well inside a ConfigMap.
      await createObject(this.kube, 'configmaps', feedConfigMap({ name: feed, namespace: ns, runId: this.runId, lines: accessLogChunk(r, 400, Date.UTC(2026, 5, 1) + i * 1000) }));
      const name = this.name(`writer-${v}`);
      await createObject(
        this.kube,
        'pods',
        taskPod({
          name,
          namespace: ns,
          runId: this.runId,
          role: 'writer',
          image: this.podImage,
          command: writerCommand(`/data/${ACCESS_LOG}`, `/input/${feed}/feed.log`, perPod),
          mounts: [{ claim: v, mountPath: '/data' }],
          inputs: [feed],
          nodeName: nodes.get(v),
        }),
      );
      pods.push(name);
    }
    await waitPodsReady(this.kube, ns, pods, this.readyMs);
    return startJournal(this.kube, ns, pods, volumes.volumes, this.readyMs, writesPerSecond);
  }

  /** scope: node outages: the kind node containers that host the volumes (validation allows them on kind only). */
  async nodeOutage(volumes: VolumeSet): Promise<NodeOutage> {
    if (this.cfg.cluster.mode !== 'kind') throw new Error('an outage with scope: node needs a kind cluster (platform.cluster.mode: kind); on an existing cluster use scope: workload');
    const { namespace: ns } = parseLocation(volumes.location);
    const nodes = [...new Set((await nodesOfClaims(this.kube, ns)).values())];
    return kindNodeOutage({ kube: this.kube, spawner: this.deps.spawner ?? spawnProcess, nodes, runtime: kindRuntime(), readyMs: this.readyMs });
  }

  createTool(config: ToolConfig): BackupTool {
    const ctx: KubeToolContext = {
      kube: this.kube,
      runId: this.runId,
      config: this.cfg,
      storageClass: () => this.storage,
      timeouts: { backupMs: this.cfg.timeouts.backupSeconds * 1000, restoreMs: this.cfg.timeouts.restoreSeconds * 1000, readyMs: this.readyMs },
      log: (m) => this.log(m),
      sampler: (targets: PodTarget[]) => new ResourceSampler(this.kube, targets, { intervalMs: this.deps.samplerIntervalMs, source: this.deps.metricsSource }),
      podImage: this.podImage,
      volumeSize: () => (this.workload() ? volumeSize(this.workload()!) : '1Gi'),
    };
    switch (config.type) {
      case 'velero-fs':
      case 'velero-csi':
        return new VeleroTool(config, ctx);
      case 'csi-snapshot':
        return new CsiSnapshotTool(config, ctx);
      case 'kubestash':
        return new KubestashTool(config, ctx);
      case 'k10':
        return new K10Tool(config, ctx);
      default:
        return new UnsupportedTool(config, `${config.type} runs on the local platform (platform.kind: local); this suite runs on Kubernetes`);
    }
  }

  async dropVolumes(volumes: VolumeSet): Promise<void> {
    const { namespace: ns } = parseLocation(volumes.location);
    this.sets.delete(volumes.id);
    this.cliByNamespace.delete(ns);
    await deleteObject(this.kube, { apiVersion: 'v1', plural: 'namespaces', name: ns });
  }

  async cleanup(): Promise<void> {
    if (this.cleaned || !this.cluster) return;
    this.cleaned = true;
    try {
      if (this.cfg.cluster.keep) {
        this.log(`keeping everything (cluster.keep): delete later by the label ${runSelector(this.runId)}`);
        return;
      }
      const sel = runSelector(this.runId);
      const problems: string[] = [];
      const sweep = async (what: string, fn: () => Promise<unknown>) => {
        try {
          await fn();
        } catch (err) {
          if (!isNotFound(err)) problems.push(`${what}: ${msg(err)}`);
        }
      };
      // Namespaces hold the volume sets and everything in them.
      await sweep('namespaces', () => deleteMatching(this.kube, { apiVersion: 'v1', plural: 'namespaces' }, sel));
      // Cluster-scoped snapshot contents (the CSI tool's cross-namespace restores); Retain, so no data is touched.
      await sweep('volumesnapshotcontents', () => deleteMatching(this.kube, { apiVersion: 'snapshot.storage.k8s.io/v1', plural: 'volumesnapshotcontents' }, sel));
      await sweep('wait for namespaces', () => this.waitNamespacesGone(sel, Math.min(this.readyMs, 180_000)));
      if (problems.length) this.log(`cleanup left something behind (${runSelector(this.runId)}): ${problems.join('; ')}`);
    } finally {
      await this.cluster.dispose();
    }
  }

  private async waitNamespacesGone(selector: string, timeoutMs: number): Promise<void> {
    await watchUntil(this.kube, {
      ref: { apiVersion: 'v1', plural: 'namespaces' },
      labelSelector: selector,
      what: `namespaces labelled ${selector} to be deleted`,
      timeoutMs,
      check: (state) => (state.size === 0 ? true : undefined),
      lastSeen: (state) => [...state.keys()].join(', '),
    });
  }
}

/**
 * The outage writers' journal: each writer pod prints "W <ms> <end>" after every fsync'd append; following the
 * logs collects those acknowledgements as they happen (a deleted pod's log is gone, so it is read live).
 */
async function startJournal(kube: Kube, ns: string, pods: string[], volumes: string[], readyMs: number, writesPerSecond: number): Promise<Writer> {
  const journal: { t: number; path: string; end: number }[] = [];
  const lastEnd = new Map<number, number>();
  const ready = new Set<number>();
  const stop = new AbortController();
  let killed = false;
  let readyResolve: () => void = () => undefined;
  const allReady = new Promise<void>((r) => (readyResolve = r));
  const follow = async (i: number) => {
    const pod = pods[i]!;
    const path = `${volumes[i]}/${ACCESS_LOG}`;
    // Re-follow when the stream drops while the writer lives; entries are deduplicated by their end offset.
    for (let attempt = 0; attempt < 20 && !killed && !stop.signal.aborted; attempt++) {
      try {
        await kube.stream(
          `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(pod)}/log`,
          (line) => {
            const parts = line.trim().split(' ');
            if (parts[0] === 'ready') {
              ready.add(i);
              if (ready.size === pods.length) readyResolve();
              return;
            }
            if (parts[0] !== 'W' || parts.length !== 3) return;
            const t = Number(parts[1]);
            const end = Number(parts[2]);
            if (!Number.isFinite(t) || !Number.isFinite(end) || end <= (lastEnd.get(i) ?? 0)) return;
            lastEnd.set(i, end);
            journal.push({ t, path, end });
          },
          { query: { container: 'main', follow: true }, accept: '*/*', signal: stop.signal, timeoutMs: 6 * 3600_000 },
        );
      } catch {
        // The pod is gone (killed) or the API server hiccuped: loop decides.
      }
      if (!killed) await new Promise((r) => setTimeout(r, 200));
    }
  };
  const followers = pods.map((_, i) => follow(i));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the workload writers did not report ready within ${Math.round(readyMs / 1000)} s`)), readyMs);
  });
  try {
    await Promise.race([allReady, timeout]);
  } catch (err) {
    stop.abort();
    for (const p of pods) await deleteObject(kube, { apiVersion: 'v1', plural: 'pods', namespace: ns, name: p }, { gracePeriodSeconds: 0 }).catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  let killing: Promise<void> | undefined;
  return {
    describe: () => `workload writer pods ${pods.join(', ')} in ${ns} (${writesPerSecond} fsync'd writes/s)`,
    kill: () => {
      killing ??= (async () => {
        killed = true;
        await Promise.all(pods.map((p) => deleteObject(kube, { apiVersion: 'v1', plural: 'pods', namespace: ns, name: p }, { gracePeriodSeconds: 0 }).catch(() => undefined)));
        await Promise.all(pods.map((p) => waitPodGone(kube, ns, p, 60_000).catch(() => undefined)));
        stop.abort();
        await Promise.all(followers);
      })();
      return killing;
    },
    journal: async () => [...journal].sort((a, b) => a.t - b.t || (a.path < b.path ? -1 : a.path > b.path ? 1 : a.end - b.end)),
  };
}
