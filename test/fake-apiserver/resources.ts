// TEST-ONLY. The resource types the fake API server serves: built-in kinds (stored without schema validation, with a
// little kind-specific behaviour a real apiserver has), CRD-backed kinds, and the optional metrics.k8s.io API.
import { randomBytes } from 'node:crypto';
import type { CrdInfo, CrdVersion, FieldError, NameRule } from './schema.ts';
import { nameProblems, fmtValue } from './schema.ts';
import { labelSelectorFromObject, matchLabels } from './selectors.ts';

export type KubeObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown> & { name: string; namespace?: string; resourceVersion?: string; uid?: string };
};

export interface ResourceType {
  group: string;
  version: string;
  /** `group/version`, or `v1` for the core group. */
  apiVersion: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Verbs of the main resource (discovery and access checks). */
  verbs: string[];
  /** Subresource name → verbs, as listed in discovery (`<plural>/<name>`). */
  subresources: Record<string, string[]>;
  statusSubresource: boolean;
  nameRule: NameRule;
  /** metadata.generation maintained (bumped on spec changes). */
  generation: boolean;
  /** Field-selector paths besides metadata.name / metadata.namespace. */
  fieldSelectors: string[];
  /** DELETE answers with the deleted object (else a Success Status). Pending (finalizers) always answer the object. */
  returnDeletedObject: boolean;
  /** PUT without metadata.resourceVersion allowed (false for custom resources). */
  unconditionalUpdate: boolean;
  /** Dependents are orphaned when DELETE names no propagationPolicy (batch/v1 Job). */
  defaultOrphan: boolean;
  /** Set for custom resources. */
  crd?: { info: CrdInfo; version: CrdVersion };
  /** Storage shared by all versions of a resource. */
  storageKey: string;
}

const ALL = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS = ['get', 'patch', 'update'];

interface Def {
  group?: string;
  version?: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  short?: string[];
  categories?: string[];
  verbs?: string[];
  status?: boolean;
  sub?: Record<string, string[]>;
  nameRule?: NameRule;
  generation?: boolean;
  fields?: string[];
  returnDeleted?: boolean;
  defaultOrphan?: boolean;
}

function make(d: Def): ResourceType {
  const group = d.group ?? '';
  const version = d.version ?? 'v1';
  const subresources: Record<string, string[]> = {};
  if (d.status) subresources.status = STATUS;
  Object.assign(subresources, d.sub ?? {});
  return {
    group,
    version,
    apiVersion: group ? `${group}/${version}` : version,
    plural: d.plural,
    singular: d.kind.toLowerCase(),
    kind: d.kind,
    listKind: `${d.kind}List`,
    namespaced: d.namespaced,
    shortNames: d.short ?? [],
    categories: d.categories ?? [],
    verbs: d.verbs ?? ALL,
    subresources,
    statusSubresource: d.status === true,
    nameRule: d.nameRule ?? 'subdomain',
    generation: d.generation === true,
    fieldSelectors: d.fields ?? [],
    returnDeletedObject: d.returnDeleted === true,
    unconditionalUpdate: true,
    defaultOrphan: d.defaultOrphan === true,
    storageKey: `${group}/${d.plural}`,
  };
}

const EVENT_FIELDS = [
  'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion',
  'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type',
];

/** Built-in kinds. `metricsApi` adds metrics.k8s.io/v1beta1 PodMetrics and NodeMetrics (get/list). */
export function builtinTypes(opts: { metricsApi?: boolean } = {}): ResourceType[] {
  const defs: Def[] = [
    { plural: 'namespaces', kind: 'Namespace', namespaced: false, short: ['ns'], status: true, sub: { finalize: ['update'] }, nameRule: 'label', fields: ['status.phase'], returnDeleted: true, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
    {
      plural: 'pods', kind: 'Pod', namespaced: true, short: ['po'], categories: ['all'], status: true,
      sub: { log: ['get'], exec: ['create', 'get'], attach: ['create', 'get'], portforward: ['create', 'get'] },
      fields: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
      returnDeleted: true,
    },
    { plural: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', namespaced: true, short: ['pvc'], status: true, returnDeleted: true },
    { plural: 'persistentvolumes', kind: 'PersistentVolume', namespaced: false, short: ['pv'], status: true, returnDeleted: true },
    { plural: 'configmaps', kind: 'ConfigMap', namespaced: true, short: ['cm'] },
    { plural: 'secrets', kind: 'Secret', namespaced: true, fields: ['type'] },
    { plural: 'services', kind: 'Service', namespaced: true, short: ['svc'], categories: ['all'], status: true, nameRule: 'dns1035', returnDeleted: true },
    { plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true, short: ['sa'], returnDeleted: true },
    { plural: 'events', kind: 'Event', namespaced: true, short: ['ev'], fields: EVENT_FIELDS },
    { plural: 'nodes', kind: 'Node', namespaced: false, short: ['no'], status: true, sub: { proxy: ['create', 'delete', 'get', 'patch', 'update'] }, fields: ['spec.unschedulable'] },
    { group: 'batch', plural: 'jobs', kind: 'Job', namespaced: true, categories: ['all'], status: true, generation: true, fields: ['status.successful'], defaultOrphan: true },
    { group: 'apps', plural: 'deployments', kind: 'Deployment', namespaced: true, short: ['deploy'], categories: ['all'], status: true, generation: true },
    { group: 'apps', plural: 'daemonsets', kind: 'DaemonSet', namespaced: true, short: ['ds'], categories: ['all'], status: true, generation: true },
    { group: 'apps', plural: 'statefulsets', kind: 'StatefulSet', namespaced: true, short: ['sts'], categories: ['all'], status: true, generation: true },
    { group: 'apps', plural: 'replicasets', kind: 'ReplicaSet', namespaced: true, short: ['rs'], categories: ['all'], status: true, generation: true },
    { group: 'storage.k8s.io', plural: 'storageclasses', kind: 'StorageClass', namespaced: false, short: ['sc'], returnDeleted: true },
    { group: 'storage.k8s.io', plural: 'csidrivers', kind: 'CSIDriver', namespaced: false },
    { group: 'apiextensions.k8s.io', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false, short: ['crd', 'crds'], categories: ['api-extensions'], status: true, generation: true, returnDeleted: true },
    { group: 'authorization.k8s.io', plural: 'selfsubjectaccessreviews', kind: 'SelfSubjectAccessReview', namespaced: false, verbs: ['create'] },
    { group: 'rbac.authorization.k8s.io', plural: 'roles', kind: 'Role', namespaced: true, nameRule: 'path' },
    { group: 'rbac.authorization.k8s.io', plural: 'rolebindings', kind: 'RoleBinding', namespaced: true, nameRule: 'path' },
    { group: 'rbac.authorization.k8s.io', plural: 'clusterroles', kind: 'ClusterRole', namespaced: false, nameRule: 'path' },
    { group: 'rbac.authorization.k8s.io', plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false, nameRule: 'path' },
    { group: 'events.k8s.io', plural: 'events', kind: 'Event', namespaced: true, short: ['ev'], fields: ['reason', 'reportingController', 'type', 'regarding.kind', 'regarding.namespace', 'regarding.name', 'regarding.uid'] },
  ];
  if (opts.metricsApi) {
    defs.push(
      { group: 'metrics.k8s.io', version: 'v1beta1', plural: 'pods', kind: 'PodMetrics', namespaced: true, verbs: ['get', 'list'] },
      { group: 'metrics.k8s.io', version: 'v1beta1', plural: 'nodes', kind: 'NodeMetrics', namespaced: false, verbs: ['get', 'list'] },
    );
  }
  return defs.map(make);
}

/** The resource type serving a CRD version. */
export function crdType(info: CrdInfo, version: CrdVersion): ResourceType {
  const subresources: Record<string, string[]> = {};
  if (version.statusSubresource) subresources.status = STATUS;
  if (version.scaleSubresource) subresources.scale = STATUS;
  return {
    group: info.group,
    version: version.name,
    apiVersion: `${info.group}/${version.name}`,
    plural: info.plural,
    singular: info.singular,
    kind: info.kind,
    listKind: info.listKind,
    namespaced: info.scope === 'Namespaced',
    shortNames: info.shortNames,
    categories: info.categories,
    verbs: ALL,
    subresources,
    statusSubresource: version.statusSubresource,
    nameRule: 'subdomain',
    generation: true,
    fieldSelectors: [],
    // the custom-resource store answers a completed DELETE with a Success Status, not the object
    returnDeletedObject: false,
    unconditionalUpdate: false,
    defaultOrphan: false,
    crd: { info, version },
    storageKey: `${info.group}/${info.plural}`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Kind-specific behaviour of built-ins

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function obj(v: unknown): Record<string, unknown> {
  return isObj(v) ? v : {};
}
function req(path: string, detail?: string): FieldError {
  return { path, type: 'FieldValueRequired', message: detail ? `Required value: ${detail}` : 'Required value' };
}
function inv(path: string, value: unknown, detail: string): FieldError {
  return { path, type: 'FieldValueInvalid', message: `Invalid value: ${fmtValue(value)}: ${detail}` };
}
function forbidden(path: string, detail: string): FieldError {
  return { path, type: 'FieldValueForbidden', message: `Forbidden: ${detail}` };
}

export class BadRequest extends Error {}

let ipCounter = 10;

/** Server-side changes a real apiserver makes on create (status reset, defaults). Mutates `o`. */
export function prepareBuiltinCreate(rt: ResourceType, o: KubeObject): void {
  const key = `${rt.group}/${rt.kind}`;
  const spec = obj(o.spec);
  switch (key) {
    case '/Namespace':
      o.metadata.labels = { ...obj(o.metadata.labels), 'kubernetes.io/metadata.name': o.metadata.name };
      o.spec = { ...spec, finalizers: Array.isArray(spec.finalizers) ? spec.finalizers : ['kubernetes'] };
      o.status = { phase: 'Active' };
      break;
    case '/Pod':
      o.status = { phase: 'Pending', qosClass: 'BestEffort' };
      break;
    case '/PersistentVolumeClaim':
      o.status = { phase: 'Pending' };
      break;
    case '/PersistentVolume':
      o.status = { phase: 'Pending' };
      break;
    case '/Service': {
      const s = { ...spec };
      s.type ??= 'ClusterIP';
      if (s.type !== 'ExternalName' && s.clusterIP === undefined) {
        const n = ipCounter++;
        s.clusterIP = `10.96.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
        s.clusterIPs = [s.clusterIP];
      }
      o.spec = s;
      o.status = { loadBalancer: {} };
      break;
    }
    case '/Secret':
      o.type ??= 'Opaque';
      break;
    case 'batch/Job': {
      // manualSelector unset: the apiserver generates the selector and labels the pod template.
      const uid = String(o.metadata.uid);
      const name = o.metadata.name;
      if (spec.manualSelector !== true) {
        const labels = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': name, 'controller-uid': uid, 'job-name': name };
        const tmpl = obj(spec.template);
        const tmeta = obj(tmpl.metadata);
        spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
        spec.template = { ...tmpl, metadata: { ...tmeta, labels: { ...obj(tmeta.labels), ...labels } } };
      }
      spec.backoffLimit ??= 6;
      spec.completions ??= 1;
      spec.parallelism ??= 1;
      o.spec = spec;
      o.status = {};
      break;
    }
    case 'apps/Deployment':
    case 'apps/DaemonSet':
    case 'apps/StatefulSet':
    case 'apps/ReplicaSet':
      o.status = {};
      break;
    case 'apiextensions.k8s.io/CustomResourceDefinition':
      break;
  }
}

/** Folds Secret.stringData into data (base64), as the apiserver does. Throws BadRequest on undecodable data. */
export function normalizeSecret(o: KubeObject): void {
  if (o.kind !== 'Secret' || o.apiVersion !== 'v1') return;
  const data = obj(o.data);
  for (const [k, v] of Object.entries(data)) {
    if (typeof v !== 'string' || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(v)) {
      throw new BadRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0 (key ${k})`);
    }
  }
  if (isObj(o.stringData)) {
    for (const [k, v] of Object.entries(o.stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    delete o.stringData;
  }
  if (Object.keys(data).length || o.data !== undefined) o.data = data;
}

function validateContainers(list: unknown, p: string, errs: FieldError[], required = true): void {
  if (!Array.isArray(list) || list.length === 0) {
    if (required) errs.push(req(p));
    return;
  }
  const names = new Set<string>();
  list.forEach((c, i) => {
    const cp = `${p}[${i}]`;
    const co = obj(c);
    if (typeof co.name !== 'string' || !co.name) errs.push(req(`${cp}.name`));
    else {
      for (const pr of nameProblems(co.name, 'label')) errs.push(inv(`${cp}.name`, co.name, pr));
      if (names.has(co.name)) errs.push({ path: `${cp}.name`, type: 'FieldValueDuplicate', message: `Duplicate value: ${fmtValue(co.name)}` });
      names.add(co.name);
    }
    if (typeof co.image !== 'string' || !co.image) errs.push(req(`${cp}.image`));
  });
}

function validatePodSpec(spec: unknown, p: string, errs: FieldError[], restartPolicies?: string[]): void {
  if (!isObj(spec)) {
    errs.push(req(p));
    return;
  }
  validateContainers(spec.containers, `${p}.containers`, errs);
  validateContainers(spec.initContainers, `${p}.initContainers`, errs, false);
  if (restartPolicies) {
    if (spec.restartPolicy === undefined) errs.push(req(`${p}.restartPolicy`, `valid values: ${restartPolicies.map((x) => `"${x}"`).join(', ')}`));
    else if (!restartPolicies.includes(String(spec.restartPolicy))) {
      errs.push({ path: `${p}.restartPolicy`, type: 'FieldValueNotSupported', message: `Unsupported value: ${fmtValue(spec.restartPolicy)}: supported values: ${restartPolicies.map((x) => `"${x}"`).join(', ')}` });
    }
  }
  const vols = Array.isArray(spec.volumes) ? spec.volumes : [];
  vols.forEach((v, i) => {
    if (typeof obj(v).name !== 'string' || !obj(v).name) errs.push(req(`${p}.volumes[${i}].name`));
  });
}

function validateSelectorTemplate(spec: Record<string, unknown>, errs: FieldError[]): void {
  if (!isObj(spec.selector)) {
    errs.push(req('spec.selector'));
    return;
  }
  const tmeta = obj(obj(spec.template).metadata);
  const labels = obj(tmeta.labels) as Record<string, string>;
  const reqs = labelSelectorFromObject(spec.selector);
  if (reqs.length === 0) errs.push(inv('spec.selector', spec.selector, 'empty selector is invalid for deployment'));
  else if (!matchLabels(reqs, labels)) errs.push(inv('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
}

/** Minimal validation of built-in kinds (the fields adapters most often get wrong). */
export function validateBuiltin(rt: ResourceType, o: KubeObject, old?: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = obj(o.spec);
  const key = `${rt.group}/${rt.kind}`;
  switch (key) {
    case '/Pod':
      validatePodSpec(o.spec, 'spec', errs);
      if (old) {
        const strip = (s: unknown) => {
          const c = JSON.parse(JSON.stringify(obj(s))) as Record<string, unknown>;
          for (const f of ['containers', 'initContainers']) {
            if (Array.isArray(c[f])) c[f] = (c[f] as Record<string, unknown>[]).map((x) => ({ ...x, image: undefined }));
          }
          delete c.activeDeadlineSeconds;
          delete c.tolerations;
          delete c.terminationGracePeriodSeconds;
          return JSON.stringify(c);
        };
        if (strip(old.spec) !== strip(o.spec)) {
          errs.push(forbidden('spec', 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)'));
        }
      }
      break;
    case '/PersistentVolumeClaim': {
      if (!Array.isArray(spec.accessModes) || spec.accessModes.length === 0) errs.push(req('spec.accessModes', 'at least 1 access mode is required'));
      const requests = obj(obj(spec.resources).requests);
      if (requests.storage === undefined && !old) errs.push(req('spec.resources[storage]'));
      if (old) {
        const strip = (s: unknown) => {
          const c = JSON.parse(JSON.stringify(obj(s))) as Record<string, unknown>;
          delete c.resources;
          delete c.volumeAttributesClassName;
          if (!obj(old.spec).volumeName) delete c.volumeName;
          return JSON.stringify(c);
        };
        if (strip(old.spec) !== strip(o.spec)) errs.push(forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
      }
      break;
    }
    case '/PersistentVolume':
      if (!isObj(spec.capacity) || spec.capacity.storage === undefined) errs.push(req('spec.capacity'));
      if (!Array.isArray(spec.accessModes) || spec.accessModes.length === 0) errs.push(req('spec.accessModes'));
      break;
    case '/ConfigMap':
      for (const f of ['data', 'binaryData']) {
        for (const [k, v] of Object.entries(obj(o[f]))) {
          if (!/^[-._a-zA-Z0-9]+$/.test(k) || k.length > 253) errs.push(inv(f, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
          if (typeof v !== 'string') errs.push({ path: `${f}[${k}]`, type: 'FieldValueTypeInvalid', message: `Invalid value: ${fmtValue(v)}: must be a string` });
        }
      }
      break;
    case 'batch/Job':
      validatePodSpec(obj(spec.template).spec, 'spec.template.spec', errs, ['OnFailure', 'Never']);
      if (old && JSON.stringify(obj(old.spec).template) !== JSON.stringify(spec.template)) {
        errs.push(inv('spec.template', spec.template, 'field is immutable'));
      }
      break;
    case 'apps/Deployment':
    case 'apps/DaemonSet':
    case 'apps/StatefulSet':
    case 'apps/ReplicaSet':
      validateSelectorTemplate(spec, errs);
      validatePodSpec(obj(spec.template).spec, 'spec.template.spec', errs);
      if (old && JSON.stringify(obj(old.spec).selector) !== JSON.stringify(spec.selector)) errs.push(inv('spec.selector', spec.selector, 'field is immutable'));
      break;
    case 'storage.k8s.io/StorageClass':
      if (typeof o.provisioner !== 'string' || !o.provisioner) errs.push(req('provisioner'));
      if (old && old.provisioner !== o.provisioner) errs.push(forbidden('provisioner', 'updates to provisioner are forbidden.'));
      break;
  }
  return errs;
}

const GEN_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/** The 5-character suffix the apiserver appends to metadata.generateName. */
export function generateSuffix(): string {
  const b = randomBytes(5);
  let s = '';
  for (let i = 0; i < 5; i++) s += GEN_CHARS[b[i]! % GEN_CHARS.length];
  return s;
}
