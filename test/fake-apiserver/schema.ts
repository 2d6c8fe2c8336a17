// TEST-ONLY. Structural-schema (openAPIV3Schema) validation of custom resources, as a Kubernetes apiserver applies it,
// plus loading of upstream CRD YAML into a CrdIndex. Used by the fake API server and directly by adapter tests:
//
//   import { loadCrds, validateObject, formatFieldError } from '../fake-apiserver/schema.ts';
//   const crds = loadCrds();                       // default dir: <repo>/../shared/crds, or $PVBENCH_CRDS_DIR
//   const errs = validateObject(crds, backupObj);  // [] when valid
//   assert.deepEqual(errs.map(formatFieldError), []);
//
// Semantics (deliberately stricter than a real apiserver in one way: UNKNOWN FIELDS ARE REJECTED, where a real server
// prunes them or, with fieldValidation=Strict, refuses them):
// - null in a non-nullable object field is pruned before defaulting, as the apiserver does; `default`s are applied to
//   a copy before validation (server.ts stores the defaulted object).
// - type / int-or-string / enum / format (date-time, date, int32, int64, byte, uuid, ipv4, duration) / pattern /
//   min/max(Length|Items|Properties|imum) / exclusive bounds / multipleOf / uniqueItems / required / nullable /
//   x-kubernetes-preserve-unknown-fields (unknown keys below it allowed) / x-kubernetes-embedded-resource /
//   x-kubernetes-list-type set|map duplicate detection / anyOf, allOf, oneOf, not (value validations) /
//   x-kubernetes-validations via the CEL subset in cel.ts (rules outside it are skipped and listed in `skippedRules`).
// - metadata at the root (and in embedded resources) is validated as ObjectMeta: known keys and their types only,
//   name / generateName as DNS-1123 subdomains, label keys and values, annotation keys, finalizers, ownerReferences.
// Field errors read like Kubernetes': `${path}: ${message}`, e.g.
//   spec.ttl: Invalid value: "integer": spec.ttl in body must be of type string: "integer"
//   spec.orderedResources: Unsupported value: "x": supported values: "a", "b"
//   spec.foo: field not declared in schema            (type FieldValueUnknown; not a real Kubernetes cause type)
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { CelEvalError, CelUnsupported, compileCel, evalCel, referencesOldSelf, celEqual } from './cel.ts';

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueTypeInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueNotFound'
  | 'FieldValueUnknown';

export interface FieldError {
  /** JSON field path as Kubernetes prints it: `spec.includedNamespaces[0]`, `metadata.labels`. */
  path: string;
  /** Kubernetes cause type (Status.details.causes[].reason). */
  type: FieldErrorType;
  /** Everything after `${path}: `, e.g. `Required value` or `Invalid value: "x": ...`. */
  message: string;
}

export function formatFieldError(e: FieldError): string {
  return `${e.path}: ${e.message}`;
}

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

export interface JSONSchemaProps {
  type?: string;
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  required?: string[];
  items?: JSONSchemaProps;
  additionalProperties?: JSONSchemaProps | boolean;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  nullable?: boolean;
  default?: unknown;
  anyOf?: JSONSchemaProps[];
  allOf?: JSONSchemaProps[];
  oneOf?: JSONSchemaProps[];
  not?: JSONSchemaProps;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: ValidationRule[];
}

export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema: JSONSchemaProps;
  /** `subresources.status` declared: writes to the main resource ignore status; /status writes change only status. */
  statusSubresource: boolean;
  scaleSubresource: boolean;
}

export interface CrdInfo {
  /** `<plural>.<group>` */
  name: string;
  group: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  scope: 'Namespaced' | 'Cluster';
  versions: CrdVersion[];
  /** The CustomResourceDefinition object as loaded (treat as read-only). */
  raw: Record<string, unknown>;
  /** File it came from, when loaded from disk. */
  file?: string;
}

export interface SkippedRule {
  path: string;
  rule: string;
  reason: string;
}

/** The CRDs known to a validator / served by a fake API server. */
export class CrdIndex {
  readonly byName = new Map<string, CrdInfo>();

  constructor(crds: Iterable<CrdInfo> = []) {
    for (const c of crds) this.add(c);
  }

  get crds(): CrdInfo[] {
    return [...this.byName.values()];
  }

  add(crd: CrdInfo): void {
    this.byName.set(crd.name, crd);
  }

  remove(name: string): boolean {
    return this.byName.delete(name);
  }

  /** A new index holding only the CRDs whose group or full name is listed. */
  filter(groupsOrNames: string[]): CrdIndex {
    return new CrdIndex(this.crds.filter((c) => groupsOrNames.includes(c.group) || groupsOrNames.includes(c.name)));
  }

  /**
   * The CRD and served version for `apiVersion` (`group/version`) and a kind, plural, singular or short name
   * (case-insensitive for kinds). Undefined when unknown or the version is not served.
   */
  find(apiVersion: string, kindOrResource: string): { crd: CrdInfo; version: CrdVersion } | undefined {
    const slash = apiVersion.indexOf('/');
    if (slash < 0) return undefined;
    const group = apiVersion.slice(0, slash);
    const ver = apiVersion.slice(slash + 1);
    const k = kindOrResource.toLowerCase();
    for (const crd of this.byName.values()) {
      if (crd.group !== group) continue;
      if (![crd.kind.toLowerCase(), crd.plural, crd.singular, ...crd.shortNames].includes(k)) continue;
      const version = crd.versions.find((v) => v.name === ver && v.served);
      if (version) return { crd, version };
    }
    return undefined;
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new Error(`invalid CRD: ${what} must be a non-empty string`);
  return v;
}

/** Reads a CustomResourceDefinition object (apiextensions.k8s.io/v1) into a CrdInfo. Throws when malformed. */
export function parseCrd(raw: unknown, file?: string): CrdInfo {
  if (!isObj(raw) || raw.kind !== 'CustomResourceDefinition') throw new Error('not a CustomResourceDefinition');
  if (raw.apiVersion !== 'apiextensions.k8s.io/v1') throw new Error(`unsupported CRD apiVersion ${String(raw.apiVersion)}`);
  const spec = raw.spec;
  if (!isObj(spec) || !isObj(spec.names)) throw new Error('invalid CRD: spec.names missing');
  const names = spec.names;
  const group = str(spec.group, 'spec.group');
  const plural = str(names.plural, 'spec.names.plural');
  const kind = str(names.kind, 'spec.names.kind');
  const scope = spec.scope === 'Cluster' ? 'Cluster' : 'Namespaced';
  if (!Array.isArray(spec.versions) || spec.versions.length === 0) throw new Error('invalid CRD: spec.versions empty');
  const versions: CrdVersion[] = spec.versions.map((v: unknown) => {
    if (!isObj(v)) throw new Error('invalid CRD version');
    const schema = isObj(v.schema) && isObj(v.schema.openAPIV3Schema) ? (v.schema.openAPIV3Schema as JSONSchemaProps) : undefined;
    const sub = isObj(v.subresources) ? v.subresources : {};
    return {
      name: str(v.name, 'spec.versions[].name'),
      served: v.served !== false,
      storage: v.storage === true,
      schema: schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      statusSubresource: isObj(sub.status),
      scaleSubresource: isObj(sub.scale),
    };
  });
  const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const info: CrdInfo = {
    name: isObj(raw.metadata) && typeof raw.metadata.name === 'string' ? raw.metadata.name : `${plural}.${group}`,
    group,
    kind,
    listKind: typeof names.listKind === 'string' ? names.listKind : `${kind}List`,
    plural,
    singular: typeof names.singular === 'string' && names.singular ? names.singular : kind.toLowerCase(),
    shortNames: strs(names.shortNames),
    categories: strs(names.categories),
    scope,
    versions,
    raw,
  };
  if (file !== undefined) info.file = file;
  if (info.name !== `${plural}.${group}`) throw new Error(`invalid CRD: metadata.name must be ${plural}.${group}`);
  return info;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `$PVBENCH_CRDS_DIR`, else `<repo>/../shared/crds`. */
export function defaultCrdsDir(): string {
  return process.env.PVBENCH_CRDS_DIR || path.resolve(repoRoot, '..', 'shared', 'crds');
}

const loaded = new Map<string, CrdInfo[]>();

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (/\.(ya?ml|json)$/.test(name)) out.push(p);
  }
  return out;
}

/**
 * Every CustomResourceDefinition in `dir` (recursively, *.yaml/*.yml/*.json, multi-document). Parsed once per
 * process and directory; each call returns a fresh index (CrdInfo objects are shared, treat them as read-only).
 */
export function loadCrds(dir: string = defaultCrdsDir()): CrdIndex {
  const abs = path.resolve(dir);
  let crds = loaded.get(abs);
  if (!crds) {
    crds = [];
    for (const file of walk(abs)) {
      for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
        if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]!.message}`);
        const js: unknown = doc.toJS();
        if (isObj(js) && js.kind === 'CustomResourceDefinition') crds.push(parseCrd(js, file));
      }
    }
    loaded.set(abs, crds);
  }
  return new CrdIndex(crds);
}

// ---------------------------------------------------------------------------------------------------------------
// Names, labels, ObjectMeta

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export type NameRule = 'subdomain' | 'label' | 'dns1035' | 'path' | 'none';

/** Why `name` is not a valid name under `rule` (Kubernetes' wording), or undefined when valid. */
export function nameProblems(name: string, rule: NameRule): string[] {
  const out: string[] = [];
  if (rule === 'none') return out;
  if (rule === 'path') {
    if (name === '.' || name === '..') out.push(`may not be '${name}'`);
    for (const bad of ['/', '%']) if (name.includes(bad)) out.push(`may not contain '${bad}'`);
    return out;
  }
  if (rule === 'subdomain') {
    if (name.length > 253) out.push('must be no more than 253 characters');
    if (!DNS1123_SUBDOMAIN.test(name)) {
      out.push(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      );
    }
    return out;
  }
  if (name.length > 63) out.push('must be no more than 63 characters');
  if (rule === 'label' && !DNS1123_LABEL.test(name)) {
    out.push(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
  }
  if (rule === 'dns1035' && !DNS1035_LABEL.test(name)) {
    out.push(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    );
  }
  return out;
}

function qualifiedNameProblems(key: string): string[] {
  const out: string[] = [];
  const parts = key.split('/');
  let name = key;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) out.push('prefix part must be non-empty');
    else if (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)) {
      out.push(`prefix part ${nameProblems(prefix, 'subdomain').join('; ')}`);
    }
  } else if (parts.length > 2) {
    out.push(
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    );
    return out;
  }
  if (name.length === 0) out.push('name part must be non-empty');
  else {
    if (name.length > 63) out.push('name part must be no more than 63 characters');
    if (!QUALIFIED_NAME_PART.test(name)) {
      out.push(
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
      );
    }
  }
  return out;
}

function labelValueProblems(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(v)) {
    out.push(
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    );
  }
  return out;
}

/** Kubernetes' rendering of a value inside "Invalid value: ...". */
export function fmtValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return 'null';
  return JSON.stringify(v);
}

function invalid(p: string, value: unknown, detail: string): FieldError {
  return { path: p, type: 'FieldValueInvalid', message: `Invalid value: ${fmtValue(value)}: ${detail}` };
}
function required(p: string, detail?: string): FieldError {
  return { path: p, type: 'FieldValueRequired', message: detail ? `Required value: ${detail}` : 'Required value' };
}
function unknownField(p: string): FieldError {
  return { path: p, type: 'FieldValueUnknown', message: 'field not declared in schema' };
}
function typeError(p: string, expected: string, value: unknown): FieldError {
  const actual = jsonType(value);
  return {
    path: p,
    type: 'FieldValueTypeInvalid',
    message: `Invalid value: "${actual}": ${p || '<root>'} in body must be of type ${expected}: "${actual}"`,
  };
}

export function jsonType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

function join(base: string, key: string): string {
  return base ? `${base}.${key}` : key;
}

export interface ObjectMetaOptions {
  /** How metadata.name is validated (default 'subdomain'). */
  nameRule?: NameRule;
  /** Require name or generateName (default true). */
  requireName?: boolean;
  /** Field path prefix (default 'metadata'). */
  path?: string;
}

const META_STRINGS = ['name', 'generateName', 'namespace', 'uid', 'resourceVersion', 'selfLink'];
const META_INTS = ['generation', 'deletionGracePeriodSeconds'];
const META_TIMES = ['creationTimestamp', 'deletionTimestamp'];

/** Validates ObjectMeta loosely: known keys with the right types, names, labels, annotations, owner references. */
export function validateObjectMeta(meta: unknown, opts: ObjectMetaOptions = {}): FieldError[] {
  const p = opts.path ?? 'metadata';
  const errs: FieldError[] = [];
  if (meta === undefined || meta === null) {
    if (opts.requireName !== false) errs.push(required(join(p, 'name'), 'name or generateName is required'));
    return errs;
  }
  if (!isObj(meta)) return [typeError(p, 'object', meta)];
  for (const [k, v] of Object.entries(meta)) {
    const fp = join(p, k);
    if (META_STRINGS.includes(k)) {
      if (typeof v !== 'string') errs.push(typeError(fp, 'string', v));
    } else if (META_INTS.includes(k)) {
      if (typeof v !== 'number' || !Number.isInteger(v)) errs.push(typeError(fp, 'integer', v));
    } else if (META_TIMES.includes(k)) {
      if (v !== null && (typeof v !== 'string' || !isDateTime(v))) errs.push(typeError(fp, 'date-time', v));
    } else if (k === 'labels' || k === 'annotations') {
      if (v === null) continue;
      if (!isObj(v)) {
        errs.push(typeError(fp, 'object', v));
        continue;
      }
      let total = 0;
      for (const [lk, lv] of Object.entries(v)) {
        for (const pr of qualifiedNameProblems(k === 'annotations' ? lk.toLowerCase() : lk)) errs.push(invalid(fp, lk, pr));
        if (typeof lv !== 'string') {
          errs.push(typeError(`${fp}.${lk}`, 'string', lv));
          continue;
        }
        total += lk.length + lv.length;
        if (k === 'labels') for (const pr of labelValueProblems(lv)) errs.push(invalid(fp, lv, pr));
      }
      if (k === 'annotations' && total > 262144) {
        errs.push({ path: fp, type: 'FieldValueTooLong', message: 'Too long: may not be more than 262144 bytes' });
      }
    } else if (k === 'finalizers') {
      if (v === null) continue;
      if (!Array.isArray(v)) {
        errs.push(typeError(fp, 'array', v));
        continue;
      }
      v.forEach((f, i) => {
        if (typeof f !== 'string') errs.push(typeError(`${fp}[${i}]`, 'string', f));
        else for (const pr of qualifiedNameProblems(f)) errs.push(invalid(`${fp}[${i}]`, f, pr));
      });
    } else if (k === 'ownerReferences') {
      if (v === null) continue;
      if (!Array.isArray(v)) {
        errs.push(typeError(fp, 'array', v));
        continue;
      }
      let controllers = 0;
      v.forEach((ref, i) => {
        const rp = `${fp}[${i}]`;
        if (!isObj(ref)) {
          errs.push(typeError(rp, 'object', ref));
          return;
        }
        for (const rk of Object.keys(ref)) {
          if (!['apiVersion', 'kind', 'name', 'uid', 'controller', 'blockOwnerDeletion'].includes(rk)) errs.push(unknownField(`${rp}.${rk}`));
        }
        for (const rk of ['apiVersion', 'kind', 'name', 'uid']) {
          const rv = ref[rk];
          if (rv === undefined || rv === '') errs.push(invalid(`${rp}.${rk}`, rv ?? '', `${rk} must not be empty`));
          else if (typeof rv !== 'string') errs.push(typeError(`${rp}.${rk}`, 'string', rv));
        }
        for (const rk of ['controller', 'blockOwnerDeletion']) {
          if (ref[rk] !== undefined && ref[rk] !== null && typeof ref[rk] !== 'boolean') errs.push(typeError(`${rp}.${rk}`, 'boolean', ref[rk]));
        }
        if (ref.controller === true) controllers++;
      });
      if (controllers > 1) errs.push(invalid(fp, v, 'Only one reference can have Controller set to true'));
    } else if (k === 'managedFields') {
      if (v !== null && !Array.isArray(v)) errs.push(typeError(fp, 'array', v));
    } else {
      errs.push(unknownField(fp));
    }
  }
  const name = meta.name;
  const gen = meta.generateName;
  const rule = opts.nameRule ?? 'subdomain';
  if ((name === undefined || name === '') && (gen === undefined || gen === '')) {
    if (opts.requireName !== false) errs.push(required(join(p, 'name'), 'name or generateName is required'));
  } else if (typeof name === 'string' && name !== '') {
    for (const pr of nameProblems(name, rule)) errs.push(invalid(join(p, 'name'), name, pr));
  } else if (typeof gen === 'string') {
    // generateName is a prefix: validate it as if a suffix were appended.
    for (const pr of nameProblems(`${gen}x`, rule)) errs.push(invalid(join(p, 'generateName'), gen, pr));
  }
  if (typeof meta.namespace === 'string' && meta.namespace !== '') {
    for (const pr of nameProblems(meta.namespace, 'label')) errs.push(invalid(join(p, 'namespace'), meta.namespace, pr));
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------------------------
// Formats

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
function isDateTime(s: string): boolean {
  const m = DATE_TIME.exec(s);
  if (!m) return false;
  const [mo, d, h, mi, se] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && se <= 60 && !Number.isNaN(Date.parse(s.replace(' ', 'T')));
}

function checkFormat(format: string, v: unknown): boolean {
  switch (format) {
    case 'date-time':
      return typeof v !== 'string' || isDateTime(v);
    case 'date':
      return typeof v !== 'string' || (/^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)));
    case 'int32':
      return typeof v !== 'number' || (v >= -2147483648 && v <= 2147483647);
    case 'int64':
      return typeof v !== 'number' || Number.isSafeInteger(v) || Number.isInteger(v);
    case 'byte':
      return typeof v !== 'string' || /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(v);
    case 'uuid':
      return typeof v !== 'string' || /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(v);
    case 'ipv4':
      return typeof v !== 'string' || /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(v);
    case 'duration':
      return typeof v !== 'string' || /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$|^0$/.test(v);
    default:
      return true; // unknown formats are not validated (as in Kubernetes)
  }
}

const regexCache = new Map<string, RegExp | null>();
function compilePattern(p: string): RegExp | null {
  if (!regexCache.has(p)) {
    let re: RegExp | null = null;
    try {
      re = new RegExp(p, 'u');
    } catch {
      try {
        re = new RegExp(p);
      } catch {
        re = null;
      }
    }
    regexCache.set(p, re);
  }
  return regexCache.get(p) ?? null;
}

// ---------------------------------------------------------------------------------------------------------------
// Defaulting

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/**
 * Prunes null values of non-nullable object fields and applies `default`s, like the apiserver does before validation.
 * Mutates and returns `value`. At the root, `metadata`, `apiVersion` and `kind` are left alone.
 */
export function applyDefaults(schema: JSONSchemaProps, value: unknown, isRoot = true): unknown {
  if (Array.isArray(value)) {
    if (schema.items) for (let i = 0; i < value.length; i++) value[i] = applyDefaults(schema.items, value[i], false);
    return value;
  }
  if (!isObj(value)) return value;
  if (schema.properties) {
    for (const [k, ps] of Object.entries(schema.properties)) {
      if (isRoot && (k === 'metadata' || k === 'apiVersion' || k === 'kind')) continue;
      if (Object.hasOwn(value, k) && value[k] === null && !ps.nullable) delete value[k];
      if (!Object.hasOwn(value, k) && ps.default !== undefined) value[k] = clone(ps.default);
      if (Object.hasOwn(value, k)) value[k] = applyDefaults(ps, value[k], false);
    }
  } else if (isObj(schema.additionalProperties)) {
    const ap = schema.additionalProperties;
    for (const k of Object.keys(value)) {
      if (value[k] === null && !ap.nullable) delete value[k];
      else value[k] = applyDefaults(ap, value[k], false);
    }
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Validation

interface Ctx {
  errors: FieldError[];
  skipped: SkippedRule[];
  /** false inside anyOf/allOf/oneOf/not: only the constraints named there apply, unknown keys are fine. */
  structural: boolean;
}

const NO_OLD = Symbol('no old value');
type Old = unknown;

function typeMatches(type: string, v: unknown): boolean {
  switch (type) {
    case 'object':
      return isObj(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
    default:
      return true;
  }
}

function validateNode(s: JSONSchemaProps, v: unknown, p: string, ctx: Ctx, old: Old, isRoot: boolean): void {
  const errs = ctx.errors;
  if (v === null || v === undefined) {
    if (s.nullable || (!ctx.structural && !s.type)) return;
    if (s.type) errs.push(typeError(p, s.type, null));
    else if (s['x-kubernetes-int-or-string']) errs.push(typeError(p, 'integer,string', null));
    return;
  }
  if (s['x-kubernetes-int-or-string']) {
    if (!(typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)))) {
      errs.push(typeError(p, 'integer,string', v));
      return;
    }
  } else if (s.type && !typeMatches(s.type, v)) {
    errs.push(typeError(p, s.type, v));
    return;
  }

  if (s.enum && !s.enum.some((e) => celEqual(e, v))) {
    errs.push({
      path: p,
      type: 'FieldValueNotSupported',
      message: `Unsupported value: ${fmtValue(v)}: supported values: ${s.enum.map((e) => fmtValue(e)).join(', ')}`,
    });
  }

  if (typeof v === 'string') {
    if (s.format && !checkFormat(s.format, v)) {
      errs.push({ path: p, type: 'FieldValueTypeInvalid', message: `Invalid value: ${fmtValue(v)}: ${p} in body must be of type ${s.format}: ${fmtValue(v)}` });
    }
    if (s.pattern !== undefined) {
      const re = compilePattern(s.pattern);
      if (re && !re.test(v)) errs.push(invalid(p, v, `${p} in body should match '${s.pattern}'`));
    }
    const len = [...v].length;
    if (s.minLength !== undefined && len < s.minLength) errs.push(invalid(p, v, `${p} in body should be at least ${s.minLength} chars long`));
    if (s.maxLength !== undefined && len > s.maxLength) {
      errs.push({ path: p, type: 'FieldValueTooLong', message: `Too long: may not be more than ${s.maxLength} bytes` });
    }
  }

  if (typeof v === 'number') {
    if (s.format && !checkFormat(s.format, v)) errs.push(invalid(p, v, `${p} in body must be of type ${s.format}: ${fmtValue(v)}`));
    if (s.minimum !== undefined) {
      if (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum) {
        errs.push(invalid(p, v, `${p} in body should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`));
      }
    }
    if (s.maximum !== undefined) {
      if (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum) {
        errs.push(invalid(p, v, `${p} in body should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`));
      }
    }
    if (s.multipleOf !== undefined && s.multipleOf !== 0) {
      const q = v / s.multipleOf;
      if (Math.abs(q - Math.round(q)) > 1e-9) errs.push(invalid(p, v, `${p} in body should be a multiple of ${s.multipleOf}`));
    }
  }

  if (Array.isArray(v)) validateArray(s, v, p, ctx, old);
  else if (isObj(v)) validateObjectNode(s, v, p, ctx, old, isRoot);

  validateJunctions(s, v, p, ctx, old);
  validateRules(s, v, p, ctx, old);
}

function validateArray(s: JSONSchemaProps, v: unknown[], p: string, ctx: Ctx, old: Old): void {
  const errs = ctx.errors;
  if (s.minItems !== undefined && v.length < s.minItems) errs.push(invalid(p, v.length, `${p} in body should have at least ${s.minItems} items`));
  if (s.maxItems !== undefined && v.length > s.maxItems) {
    errs.push({ path: p, type: 'FieldValueTooMany', message: `Too many: ${v.length}: must have at most ${s.maxItems} items` });
  }
  const listType = s['x-kubernetes-list-type'];
  if (s.uniqueItems || listType === 'set') {
    v.forEach((item, i) => {
      if (v.findIndex((x) => celEqual(x, item)) !== i) errs.push({ path: `${p}[${i}]`, type: 'FieldValueDuplicate', message: `Duplicate value: ${fmtValue(item)}` });
    });
  }
  const keys = s['x-kubernetes-list-map-keys'] ?? [];
  const keyOf = (item: unknown): string | undefined => (isObj(item) && listType === 'map' ? JSON.stringify(keys.map((k) => item[k] ?? null)) : undefined);
  if (listType === 'map') {
    const seen = new Set<string>();
    v.forEach((item, i) => {
      const k = keyOf(item);
      if (k === undefined) return;
      if (seen.has(k)) {
        const shown = isObj(item) ? Object.fromEntries(keys.map((kk) => [kk, item[kk]])) : item;
        errs.push({ path: `${p}[${i}]`, type: 'FieldValueDuplicate', message: `Duplicate value: ${fmtValue(shown)}` });
      }
      seen.add(k);
    });
  }
  if (!s.items) return;
  const oldByKey = new Map<string, unknown>();
  if (listType === 'map' && Array.isArray(old)) for (const o of old) {
    const k = keyOf(o);
    if (k !== undefined) oldByKey.set(k, o);
  }
  v.forEach((item, i) => {
    let o: Old = NO_OLD;
    if (listType === 'map') {
      const k = keyOf(item);
      if (k !== undefined && oldByKey.has(k)) o = oldByKey.get(k);
    }
    validateNode(s.items!, item, `${p}[${i}]`, ctx, o, false);
  });
}

function validateObjectNode(s: JSONSchemaProps, v: Record<string, unknown>, p: string, ctx: Ctx, old: Old, isRoot: boolean): void {
  const errs = ctx.errors;
  const oldObj = isObj(old) ? old : undefined;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  const implicit = isRoot || embedded;
  for (const r of s.required ?? []) {
    if (!Object.hasOwn(v, r) || v[r] === undefined) errs.push(required(join(p, r)));
  }
  const n = Object.keys(v).length;
  if (s.minProperties !== undefined && n < s.minProperties) errs.push(invalid(p, n, `${p} in body should have at least ${s.minProperties} properties`));
  if (s.maxProperties !== undefined && n > s.maxProperties) {
    errs.push({ path: p, type: 'FieldValueTooMany', message: `Too many: ${n}: must have at most ${s.maxProperties} items` });
  }
  if (implicit) {
    if (Object.hasOwn(v, 'metadata')) {
      errs.push(...validateObjectMeta(v.metadata, { path: join(p, 'metadata'), requireName: isRoot && ctx.structural ? !embedded : false }));
    } else if (isRoot && ctx.structural) {
      errs.push(required(join(p, 'metadata.name'), 'name or generateName is required'));
    }
    for (const k of ['apiVersion', 'kind']) {
      if (Object.hasOwn(v, k) && typeof v[k] !== 'string') errs.push(typeError(join(p, k), 'string', v[k]));
      if (embedded && ctx.structural && (typeof v[k] !== 'string' || v[k] === '')) errs.push(required(join(p, k), 'must not be empty'));
    }
  }
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const ap = s.additionalProperties;
  for (const [k, val] of Object.entries(v)) {
    if (implicit && (k === 'metadata' || k === 'apiVersion' || k === 'kind')) continue;
    const fp = join(p, k);
    const o: Old = oldObj && Object.hasOwn(oldObj, k) ? oldObj[k] : NO_OLD;
    const ps = s.properties?.[k];
    if (ps) validateNode(ps, val, fp, ctx, o, false);
    else if (isObj(ap)) validateNode(ap, val, fp, ctx, o, false);
    else if (ap === true || preserve || !ctx.structural) continue;
    else errs.push(unknownField(fp));
  }
}

function validateJunctions(s: JSONSchemaProps, v: unknown, p: string, ctx: Ctx, old: Old): void {
  const branch = (b: JSONSchemaProps): FieldError[] => {
    const sub: Ctx = { errors: [], skipped: ctx.skipped, structural: false };
    validateNode(b, v, p, sub, old, false);
    return sub.errors;
  };
  for (const b of s.allOf ?? []) ctx.errors.push(...branch(b));
  if (s.anyOf && s.anyOf.length) {
    const results = s.anyOf.map(branch);
    if (!results.some((r) => r.length === 0)) {
      // int-or-string fields use anyOf [{type: integer}, {type: string}]: report the failing string branch only.
      const best = results.reduce((a, b) => (b.length < a.length ? b : a));
      ctx.errors.push(...best);
    }
  }
  if (s.oneOf && s.oneOf.length) {
    const ok = s.oneOf.map(branch).filter((r) => r.length === 0).length;
    if (ok !== 1) ctx.errors.push(invalid(p, v, `${p} in body must validate one and only one schema (oneOf)${ok === 0 ? '' : `. Found ${ok} valid alternatives`}`));
  }
  if (s.not && branch(s.not).length === 0) ctx.errors.push(invalid(p, v, `${p} in body must not validate the schema (not)`));
}

function validateRules(s: JSONSchemaProps, v: unknown, p: string, ctx: Ctx, old: Old): void {
  const rules = s['x-kubernetes-validations'];
  if (!rules || !ctx.structural) return;
  for (const r of rules) {
    const transition = referencesOldSelf(r.rule);
    if (transition && old === NO_OLD && !r.optionalOldSelf) continue;
    let fieldPath = p;
    if (r.fieldPath) fieldPath = r.fieldPath.startsWith('.') ? `${p}${r.fieldPath}` : join(p, r.fieldPath);
    const typeName = jsonType(v);
    let result: unknown;
    try {
      const node = compileCel(r.rule);
      result = evalCel(node, { self: v, oldSelf: old === NO_OLD ? null : old });
    } catch (e) {
      if (e instanceof CelUnsupported) {
        ctx.skipped.push({ path: p, rule: r.rule, reason: e.message });
        continue;
      }
      const msg = e instanceof CelEvalError ? e.message : String(e);
      ctx.errors.push({ path: fieldPath, type: 'FieldValueInvalid', message: `Invalid value: "${typeName}": ${msg} evaluating rule: ${r.rule}` });
      continue;
    }
    if (result === true) continue;
    const text = r.message ?? `failed rule: ${r.rule}`;
    switch (r.reason) {
      case 'FieldValueRequired':
        ctx.errors.push({ path: fieldPath, type: 'FieldValueRequired', message: `Required value: ${text}` });
        break;
      case 'FieldValueForbidden':
        ctx.errors.push({ path: fieldPath, type: 'FieldValueForbidden', message: `Forbidden: ${text}` });
        break;
      case 'FieldValueDuplicate':
        ctx.errors.push({ path: fieldPath, type: 'FieldValueDuplicate', message: `Duplicate value: "${typeName}": ${text}` });
        break;
      default:
        ctx.errors.push({ path: fieldPath, type: 'FieldValueInvalid', message: `Invalid value: "${typeName}": ${text}` });
    }
  }
}

export interface SchemaValidationResult {
  errors: FieldError[];
  /** x-kubernetes-validations rules outside the supported CEL subset (not evaluated). */
  skippedRules: SkippedRule[];
}

export interface ValidateOptions {
  /** The stored object being replaced: enables transition rules (those using oldSelf). */
  old?: unknown;
  /** Field path of `value` (default ''), e.g. 'spec' when validating a sub-schema. */
  path?: string;
  /** Treat `value` as an object root (implicit apiVersion/kind/metadata). Default true. */
  root?: boolean;
}

/** Validates a value against a structural schema. Does not default; call applyDefaults first for apiserver parity. */
export function validateSchema(schema: JSONSchemaProps, value: unknown, opts: ValidateOptions = {}): SchemaValidationResult {
  const ctx: Ctx = { errors: [], skipped: [], structural: true };
  validateNode(schema, value, opts.path ?? '', ctx, opts.old === undefined ? NO_OLD : opts.old, opts.root !== false);
  return { errors: ctx.errors, skippedRules: ctx.skipped };
}

/**
 * Validates a custom resource as the apiserver would on create (or update, with opts.old): finds its CRD by
 * apiVersion + kind, defaults a copy, then validates it against the served version's openAPIV3Schema.
 */
export function validateObject(index: CrdIndex, obj: unknown, opts: { old?: unknown } = {}): FieldError[] {
  return validateObjectDetailed(index, obj, opts).errors;
}

export function validateObjectDetailed(index: CrdIndex, obj: unknown, opts: { old?: unknown } = {}): SchemaValidationResult {
  if (!isObj(obj)) return { errors: [typeError('', 'object', obj)], skippedRules: [] };
  const { apiVersion, kind } = obj;
  if (typeof apiVersion !== 'string' || apiVersion === '') return { errors: [required('apiVersion')], skippedRules: [] };
  if (typeof kind !== 'string' || kind === '') return { errors: [required('kind')], skippedRules: [] };
  const found = index.find(apiVersion, kind);
  if (!found || found.crd.kind !== kind) {
    return { errors: [invalid('kind', kind, `no matches for kind "${kind}" in version "${apiVersion}"`)], skippedRules: [] };
  }
  const copy = applyDefaults(found.version.schema, clone(obj));
  return validateSchema(found.version.schema, copy, opts.old === undefined ? {} : { old: opts.old });
}
