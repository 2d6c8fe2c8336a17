// Preflight: before anything is created, check that the cluster has what the run needs (APIs/CRDs, a storage
// class, a snapshot class, permissions) and say exactly what is missing and how to fix it.
import type { Kube, KubeList, KubeObject } from './client.ts';
import { KubeApiError, apiBase, createObject, findObject, listObjects } from './client.ts';
import { selfSubjectAccessReview } from './objects.ts';

export interface Problem {
  /** What is missing, e.g. 'the API velero.io/v1 backups (CRD backups.velero.io) is not served'. */
  missing: string;
  fix: string;
}

export interface PreflightResult {
  ok: boolean;
  problems: Problem[];
  warnings: string[];
}

export function formatProblems(problems: Problem[]): string {
  return problems.map((p) => `missing: ${p.missing}. Fix: ${p.fix}`).join('; ');
}

export class PreflightError extends Error {
  readonly problems: Problem[];
  constructor(context: string, problems: Problem[]) {
    super(`${context}: ${problems.length} problem(s): ${formatProblems(problems)}`);
    this.name = 'PreflightError';
    this.problems = problems;
  }
}

// --- APIs -----------------------------------------------------------------------------------------------------------

export interface ApiRequirement {
  apiVersion: string;
  plural: string;
  /** How to get it, e.g. "install Velero (https://velero.io/docs/main/basic-install/)". */
  fix: string;
}

const discoveryCache = new WeakMap<Kube, Map<string, Promise<Set<string> | undefined>>>();

/** The resources a group/version serves (discovery), or undefined when it is not served at all. */
export function servedResources(kube: Kube, apiVersion: string): Promise<Set<string> | undefined> {
  let cache = discoveryCache.get(kube);
  if (!cache) discoveryCache.set(kube, (cache = new Map()));
  let p = cache.get(apiVersion);
  if (!p) {
    p = kube.request<{ resources?: { name: string }[] }>('GET', apiBase(apiVersion), { timeoutMs: 15_000 }).then(
      (list) => new Set((list.resources ?? []).map((r) => r.name)),
      (err: unknown) => {
        cache.delete(apiVersion);
        if (err instanceof KubeApiError && (err.status === 404 || err.status === 503)) return undefined;
        throw err;
      },
    );
    cache.set(apiVersion, p);
  }
  return p;
}

/** Forget what discovery said (after installing something). */
export function forgetDiscovery(kube: Kube): void {
  discoveryCache.delete(kube);
}

export async function checkApis(kube: Kube, reqs: ApiRequirement[]): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const r of reqs) {
    const served = await servedResources(kube, r.apiVersion);
    if (served?.has(r.plural)) continue;
    const group = r.apiVersion.includes('/') ? r.apiVersion.split('/')[0] : '';
    const crd = group ? ` (CRD ${r.plural}.${group})` : '';
    problems.push({
      missing: served ? `the API ${r.apiVersion} does not serve ${r.plural}${crd}` : `the API ${r.apiVersion} is not served, so ${r.plural}${crd} cannot be used`,
      fix: r.fix,
    });
  }
  return problems;
}

// --- permissions ----------------------------------------------------------------------------------------------------

export interface AccessRequirement {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  /** Why pvbench needs it, for the message. */
  why: string;
}

export async function checkAccess(kube: Kube, reqs: AccessRequirement[]): Promise<Problem[]> {
  const problems: Problem[] = [];
  const results = await Promise.all(
    reqs.map(async (r) => {
      const review = await createObject(kube, 'selfsubjectaccessreviews', selfSubjectAccessReview(r));
      return { r, allowed: review.status?.allowed === true, reason: String(review.status?.reason ?? '') };
    }),
  );
  for (const { r, allowed, reason } of results) {
    if (allowed) continue;
    const res = `${r.resource}${r.subresource ? `/${r.subresource}` : ''}${r.group ? `.${r.group}` : ''}`;
    const scope = r.namespace ? `in namespace ${r.namespace}` : 'cluster-wide';
    problems.push({
      missing: `permission to ${r.verb} ${res} ${scope} (needed to ${r.why})${reason ? ` [${reason}]` : ''}`,
      fix: `grant it, e.g. a ${r.namespace ? 'Role/RoleBinding' : 'ClusterRole/ClusterRoleBinding'} with apiGroups: ["${r.group}"], resources: ["${res.split('.')[0]}"], verbs: ["${r.verb}"] for the identity of the kubeconfig's context`,
    });
  }
  return problems;
}

/** The access every run on Kubernetes needs (namespaces are created per volume set). */
export function platformAccess(baseNamespace: string): AccessRequirement[] {
  const inNs = (verb: string, group: string, resource: string, why: string, subresource?: string): AccessRequirement => ({ verb, group, resource, subresource, why });
  return [
    { verb: 'create', group: '', resource: 'namespaces', why: 'create one namespace per volume set' },
    { verb: 'delete', group: '', resource: 'namespaces', why: 'remove them at cleanup' },
    inNs('create', '', 'persistentvolumeclaims', 'create the workload volumes'),
    inNs('create', '', 'pods', 'run the proxy, seeding and verifier pods'),
    inNs('delete', '', 'pods', 'kill the outage writer'),
    inNs('get', '', 'pods', 'read verifier output', 'log'),
    inNs('create', '', 'configmaps', 'ship the pvbench CLI to the pods'),
    inNs('create', 'batch', 'jobs', 'seed and churn the volumes'),
    inNs('watch', '', 'pods', 'wait for pods'),
  ].map((r) => ({ ...r, namespace: r.resource === 'namespaces' ? undefined : baseNamespace }));
}

// --- storage --------------------------------------------------------------------------------------------------------

const DEFAULT_SC = 'storageclass.kubernetes.io/is-default-class';
const DEFAULT_VSC = 'snapshot.storage.kubernetes.io/is-default-class';

/** The storage class the workload PVCs will use (the named one, or the default), or a problem. */
export async function checkStorageClass(kube: Kube, name: string | undefined): Promise<{ storageClass?: KubeObject; problems: Problem[] }> {
  const list = await listObjects(kube, { apiVersion: 'storage.k8s.io/v1', plural: 'storageclasses' });
  const names = list.items.map((i) => i.metadata.name).filter(Boolean);
  const available = names.length ? `the cluster has: ${names.join(', ')}` : 'the cluster has no storage class at all';
  if (name) {
    const sc = list.items.find((i) => i.metadata.name === name);
    if (sc) return { storageClass: sc, problems: [] };
    return { problems: [{ missing: `storage class "${name}" (${available})`, fix: 'set platform.storageClass to an existing class, or on kind set platform.install.csiHostpath: true and use csi-hostpath-sc' }] };
  }
  const def = list.items.find((i) => i.metadata.annotations?.[DEFAULT_SC] === 'true');
  if (def) return { storageClass: def, problems: [] };
  return { problems: [{ missing: `a default storage class (${available})`, fix: 'set platform.storageClass, or mark a class default with the annotation storageclass.kubernetes.io/is-default-class: "true"' }] };
}

/** The VolumeSnapshotClass to use for a storage class's driver: the named one, or the default for that driver. */
export async function checkSnapshotClass(kube: Kube, name: string | undefined, driver: string | undefined): Promise<{ snapshotClass?: KubeObject; problems: Problem[] }> {
  let list: KubeList;
  try {
    list = await listObjects(kube, { apiVersion: 'snapshot.storage.k8s.io/v1', plural: 'volumesnapshotclasses' });
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) {
      return { problems: [{ missing: 'the VolumeSnapshotClass API (CRD volumesnapshotclasses.snapshot.storage.k8s.io)', fix: 'install the snapshot CRDs and controller (kubectl apply -k https://github.com/kubernetes-csi/external-snapshotter/client/config/crd), or on kind set platform.install.csiHostpath: true' }] };
    }
    throw err;
  }
  const described = list.items.map((i) => `${i.metadata.name} (driver ${String(i.driver)})`).join(', ') || 'none';
  if (name) {
    const vsc = list.items.find((i) => i.metadata.name === name);
    if (!vsc) return { problems: [{ missing: `VolumeSnapshotClass "${name}" (the cluster has: ${described})`, fix: 'set platform.snapshotClass (or the tool option snapshotClass) to an existing class' }] };
    if (driver && vsc.driver !== driver) {
      return { problems: [{ missing: `a VolumeSnapshotClass for driver ${driver}: "${name}" is for ${String(vsc.driver)}`, fix: `use a snapshot class whose driver is ${driver} (the storage class's provisioner)` }] };
    }
    return { snapshotClass: vsc, problems: [] };
  }
  const forDriver = list.items.filter((i) => !driver || i.driver === driver);
  const def = forDriver.find((i) => i.metadata.annotations?.[DEFAULT_VSC] === 'true') ?? (forDriver.length === 1 ? forDriver[0] : undefined);
  if (def) return { snapshotClass: def, problems: [] };
  return {
    problems: [
      {
        missing: `a VolumeSnapshotClass for ${driver ? `driver ${driver}` : 'the storage class'} (the cluster has: ${described})`,
        fix: `create one (driver: ${driver ?? '<provisioner>'}, deletionPolicy: Delete) and set platform.snapshotClass, or annotate one with ${DEFAULT_VSC}: "true"`,
      },
    ],
  };
}

/** Everything the platform itself needs; tools check their own APIs in probe(). */
export async function platformPreflight(kube: Kube, opts: { namespace: string; storageClass?: string }): Promise<PreflightResult & { storageClass?: KubeObject }> {
  const problems: Problem[] = [];
  const warnings: string[] = [];
  problems.push(...(await checkAccess(kube, platformAccess(opts.namespace))));
  const sc = await checkStorageClass(kube, opts.storageClass);
  problems.push(...sc.problems);
  // Node metrics are optional: without them tool pods' CPU and memory are reported as 0.
  const metrics = await servedResources(kube, 'metrics.k8s.io/v1beta1');
  if (!metrics?.has('pods')) {
    const nodeProxy = await checkAccess(kube, [{ verb: 'get', group: '', resource: 'nodes', subresource: 'proxy', why: "read the kubelet's resource metrics" }]);
    if (nodeProxy.length) warnings.push(`no metrics.k8s.io and ${formatProblems(nodeProxy)}: tool pods' CPU and memory will not be measured`);
  }
  return { ok: problems.length === 0, problems, warnings, storageClass: sc.storageClass };
}

/** Does a named object exist? (for tool probes: the Velero deployment, the node-agent DaemonSet ...) */
export async function checkObject(kube: Kube, ref: { apiVersion: string; plural: string; namespace?: string; name: string }, missing: string, fix: string): Promise<Problem[]> {
  try {
    return (await findObject(kube, ref)) ? [] : [{ missing, fix }];
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 403) return [{ missing: `${missing} (cannot tell: ${err.message})`, fix }];
    throw err;
  }
}
