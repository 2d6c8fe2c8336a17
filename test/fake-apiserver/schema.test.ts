// The structural-schema validator against the upstream CRDs (velero.io, snapshot.storage.k8s.io, kubestash).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadCrds, validateObject, validateObjectDetailed, validateSchema, formatFieldError, applyDefaults, defaultCrdsDir, validateObjectMeta } from './schema.ts';
import type { JSONSchemaProps } from './schema.ts';
import { compileCel, evalCel, CelUnsupported } from './cel.ts';

const crds = loadCrds();
const errs = (obj: unknown, old?: unknown) => validateObject(crds, obj, old === undefined ? {} : { old }).map(formatFieldError);

function backup(spec: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'velero.io/v1',
    kind: 'Backup',
    metadata: { name: 'pvbench-b1', namespace: 'velero', labels: { 'pvbench.io/run': 'run-1', 'velero.io/storage-location': 'default' } },
    spec: {
      includedNamespaces: ['mesh-app'],
      labelSelector: { matchLabels: { app: 'mesh-proxy' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['data'] }] },
      defaultVolumesToFsBackup: true,
      snapshotMoveData: false,
      snapshotVolumes: true,
      ttl: '720h0m0s',
      storageLocation: 'default',
      volumeSnapshotLocations: ['default'],
      csiSnapshotTimeout: '10m0s',
      itemOperationTimeout: '4h0m0s',
      ...spec,
    },
    ...extra,
  };
}

function volumeSnapshot(source: Record<string, unknown> = { persistentVolumeClaimName: 'data-mesh-0' }): Record<string, unknown> {
  return {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshot',
    metadata: { name: 'snap-1', namespace: 'mesh-app' },
    spec: { volumeSnapshotClassName: 'csi-hostpath-snapclass', source },
  };
}

describe('loading CRDs', () => {
  test('loads every upstream CRD with group, plural, scope and versions', () => {
    assert.equal(defaultCrdsDir(), path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'crds'));
    const names = crds.crds.map((c) => c.name);
    for (const n of ['backups.velero.io', 'restores.velero.io', 'volumesnapshots.snapshot.storage.k8s.io', 'volumesnapshotcontents.snapshot.storage.k8s.io', 'backupconfigurations.core.kubestash.com', 'repositories.storage.kubestash.com']) {
      assert.ok(names.includes(n), n);
    }
    const vsc = crds.byName.get('volumesnapshotcontents.snapshot.storage.k8s.io')!;
    assert.equal(vsc.scope, 'Cluster');
    assert.equal(crds.find('snapshot.storage.k8s.io/v1', 'VolumeSnapshotContent')?.version.statusSubresource, true);
    assert.equal(crds.find('snapshot.storage.k8s.io/v1beta1', 'VolumeSnapshot'), undefined, 'v1beta1 is not served');
    assert.equal(crds.find('velero.io/v1', 'backups')?.version.statusSubresource, false);
    assert.equal(crds.find('velero.io/v2alpha1', 'DataUpload')?.crd.plural, 'datauploads');
  });

  test('honours a directory argument and filters by group', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'crds-'));
    try {
      writeFileSync(
        path.join(dir, 'widgets.yaml'),
        [
          'apiVersion: apiextensions.k8s.io/v1',
          'kind: CustomResourceDefinition',
          'metadata: {name: widgets.example.com}',
          'spec:',
          '  group: example.com',
          '  names: {kind: Widget, plural: widgets, listKind: WidgetList, singular: widget}',
          '  scope: Namespaced',
          '  versions:',
          '  - name: v1',
          '    served: true',
          '    storage: true',
          '    schema:',
          '      openAPIV3Schema:',
          '        type: object',
          '        properties:',
          '          spec: {type: object, properties: {size: {type: integer, minimum: 1, default: 3}}}',
          '---',
          'apiVersion: v1',
          'kind: ConfigMap',
          'metadata: {name: ignored}',
          '',
        ].join('\n'),
      );
      const idx = loadCrds(dir);
      assert.deepEqual(idx.crds.map((c) => c.name), ['widgets.example.com']);
      assert.deepEqual(errs({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }), ['kind: Invalid value: "Widget": no matches for kind "Widget" in version "example.com/v1"']);
      assert.deepEqual(validateObject(idx, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 0 } }).map(formatFieldError), [
        'spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1',
      ]);
      assert.equal(crds.filter(['velero.io']).crds.every((c) => c.group === 'velero.io'), true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('validateObject', () => {
  test('accepts a realistic velero.io/v1 Backup', () => {
    assert.deepEqual(errs(backup()), []);
    // Velero fills status itself; a completed status validates too (Backup has no status subresource)
    assert.deepEqual(errs(backup({}, { status: { phase: 'Completed', startTimestamp: '2024-05-01T10:00:00Z', completionTimestamp: '2024-05-01T10:01:30Z', progress: { totalItems: 12, itemsBackedUp: 12 } } })), []);
  });

  test('accepts a snapshot.storage.k8s.io/v1 VolumeSnapshot and its status', () => {
    assert.deepEqual(errs(volumeSnapshot()), []);
    const vs = volumeSnapshot();
    vs.status = { boundVolumeSnapshotContentName: 'snapcontent-1', readyToUse: true, restoreSize: '1Gi', creationTime: '2024-05-01T10:00:00Z' };
    assert.deepEqual(errs(vs), []);
  });

  test('rejects an unknown field, at any depth', () => {
    assert.deepEqual(errs(backup({ includeNamespaces: ['typo'] })), ['spec.includeNamespaces: field not declared in schema']);
    assert.deepEqual(errs(backup({ labelSelector: { matchLabel: { a: 'b' } } })), ['spec.labelSelector.matchLabel: field not declared in schema']);
    assert.deepEqual(errs(backup({}, { extra: true })), ['extra: field not declared in schema']);
    const res = validateObjectDetailed(crds, backup({ bogus: 1 }));
    assert.equal(res.errors[0]?.type, 'FieldValueUnknown');
    assert.equal(res.errors[0]?.path, 'spec.bogus');
  });

  test('rejects wrong types with Kubernetes wording', () => {
    assert.deepEqual(errs(backup({ ttl: 3600 })), ['spec.ttl: Invalid value: "integer": spec.ttl in body must be of type string: "integer"']);
    assert.deepEqual(errs(backup({ includedNamespaces: 'mesh-app' })), ['spec.includedNamespaces: Invalid value: "string": spec.includedNamespaces in body must be of type array: "string"']);
    assert.deepEqual(errs(backup({ includedNamespaces: ['ok', 7] })), ['spec.includedNamespaces[1]: Invalid value: "integer": spec.includedNamespaces[1] in body must be of type string: "integer"']);
    assert.deepEqual(errs(backup({ snapshotMoveData: 'yes' })), ['spec.snapshotMoveData: Invalid value: "string": spec.snapshotMoveData in body must be of type boolean: "string"']);
    assert.equal(validateObjectDetailed(crds, backup({ ttl: 1 })).errors[0]?.type, 'FieldValueTypeInvalid');
  });

  test('rejects a value outside an enum', () => {
    assert.deepEqual(errs(backup({}, { status: { phase: 'Done' } })), [
      'status.phase: Unsupported value: "Done": supported values: "New", "Queued", "ReadyToStart", "FailedValidation", "InProgress", "WaitingForPluginOperations", "WaitingForPluginOperationsPartiallyFailed", "Finalizing", "FinalizingPartiallyFailed", "Completed", "PartiallyFailed", "Failed", "Deleting"',
    ]);
    const cls = { apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshotClass', metadata: { name: 'c' }, driver: 'hostpath.csi.k8s.io', deletionPolicy: 'Keep' };
    assert.deepEqual(errs(cls), ['deletionPolicy: Unsupported value: "Keep": supported values: "Delete", "Retain"']);
  });

  test('required fields, including at the root and under metadata', () => {
    assert.deepEqual(errs({ apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshotClass', metadata: { name: 'c' } }), ['deletionPolicy: Required value', 'driver: Required value']);
    assert.deepEqual(errs({ apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: { name: 's' } }), ['spec: Required value']);
    assert.deepEqual(errs({ apiVersion: 'velero.io/v1', kind: 'Backup', metadata: {} }), ['metadata.name: Required value: name or generateName is required']);
    assert.deepEqual(errs({ apiVersion: 'velero.io/v1', kind: 'Backup', metadata: { generateName: 'pvbench-' } }), []);
  });

  test('nullable fields take null; other nulls are pruned as the apiserver does', () => {
    assert.deepEqual(errs(backup({ defaultVolumesToFsBackup: null })), []);
    assert.deepEqual(errs(backup({ ttl: null })), []);
    // pruning happens on object fields only; a null array item is a type error
    assert.deepEqual(errs(backup({ includedNamespaces: [null] })), ['spec.includedNamespaces[0]: Invalid value: "null": spec.includedNamespaces[0] in body must be of type string: "null"']);
  });

  test('formats, patterns and int-or-string', () => {
    assert.deepEqual(errs(backup({}, { status: { startTimestamp: 'yesterday' } })), ['status.startTimestamp: Invalid value: "yesterday": status.startTimestamp in body must be of type date-time: "yesterday"']);
    const vs = volumeSnapshot();
    vs.status = { restoreSize: 'lots' };
    assert.deepEqual(errs(vs).length, 1);
    assert.match(errs(vs)[0]!, /^status\.restoreSize: Invalid value: "lots": status\.restoreSize in body should match '\^\(\\\+\|-\)/);
    vs.status = { restoreSize: 1073741824 };
    assert.deepEqual(errs(vs), []);
    vs.status = { restoreSize: true };
    assert.deepEqual(errs(vs), ['status.restoreSize: Invalid value: "boolean": status.restoreSize in body must be of type integer,string: "boolean"']);
  });

  test('metadata is validated as ObjectMeta', () => {
    const b = backup();
    (b.metadata as Record<string, unknown>).labels = { 'pvbench.io/started': '2024-05-01T10:00:00Z' };
    assert.match(errs(b)[0]!, /^metadata\.labels: Invalid value: "2024-05-01T10:00:00Z": a valid label must be an empty string/);
    assert.deepEqual(errs({ ...backup(), metadata: { name: 'Upper_Case' } }).length, 1);
    assert.match(errs({ ...backup(), metadata: { name: 'Upper_Case' } })[0]!, /^metadata\.name: Invalid value: "Upper_Case": a lowercase RFC 1123 subdomain/);
    assert.deepEqual(errs({ ...backup(), metadata: { name: 'b', lables: {} } }), ['metadata.lables: field not declared in schema']);
    assert.deepEqual(errs({ ...backup(), metadata: { name: 'b', annotations: { a: 1 } } }), ['metadata.annotations.a: Invalid value: "integer": metadata.annotations.a in body must be of type string: "integer"']);
    assert.deepEqual(validateObjectMeta({ name: 'ns-1' }, { nameRule: 'label' }), []);
    assert.equal(validateObjectMeta({ name: 'a.b' }, { nameRule: 'label' }).length, 1);
    assert.deepEqual(
      validateObjectMeta({ name: 'x', ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p' }] }).map(formatFieldError),
      ['metadata.ownerReferences[0].uid: Invalid value: "": uid must not be empty'],
    );
  });

  test('x-kubernetes-validations (CEL subset): VolumeSnapshot source rules, immutability on update', () => {
    assert.deepEqual(errs(volumeSnapshot({ persistentVolumeClaimName: 'a', volumeSnapshotContentName: 'b' })), [
      'spec.source: Invalid value: "object": exactly one of volumeSnapshotContentName and persistentVolumeClaimName must be set',
    ]);
    assert.deepEqual(errs(volumeSnapshot({})), ['spec.source: Invalid value: "object": exactly one of volumeSnapshotContentName and persistentVolumeClaimName must be set']);
    const empty = volumeSnapshot();
    (empty.spec as Record<string, unknown>).volumeSnapshotClassName = '';
    assert.deepEqual(errs(empty), ['spec.volumeSnapshotClassName: Invalid value: "string": volumeSnapshotClassName must not be the empty string when set']);
    // transition rules need the old object
    const old = volumeSnapshot({ persistentVolumeClaimName: 'a' });
    assert.deepEqual(errs(volumeSnapshot({ persistentVolumeClaimName: 'b' })), []);
    assert.deepEqual(errs(volumeSnapshot({ persistentVolumeClaimName: 'b' }), old), ['spec.source.persistentVolumeClaimName: Invalid value: "string": persistentVolumeClaimName is immutable']);
    assert.deepEqual(errs(volumeSnapshot({ persistentVolumeClaimName: 'a' }), old), []);
    assert.deepEqual(validateObjectDetailed(crds, volumeSnapshot()).skippedRules, []);
  });

  test('preserve-unknown-fields, additionalProperties, list-map duplicates, embedded resources, junctions', () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: {
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'integer' } } },
        map: { type: 'object', additionalProperties: { type: 'string' } },
        anyMap: { type: 'object', additionalProperties: true },
        list: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', properties: { name: { type: 'string' }, v: { type: 'integer' } }, required: ['name'] } },
        set: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' }, maxItems: 3 },
        embedded: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
        quantity: { anyOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true, pattern: '^[0-9]+(Mi|Gi)?$' },
        name: { type: 'string', minLength: 2, maxLength: 4 },
      },
    };
    const v = (value: unknown) => validateSchema(schema, value, { root: false }).errors.map(formatFieldError);
    assert.deepEqual(v({ free: { anything: { deep: [1] }, known: 1 } }), []);
    assert.deepEqual(v({ free: { known: 'x' } }), ['free.known: Invalid value: "string": free.known in body must be of type integer: "string"']);
    assert.deepEqual(v({ map: { a: 'x', b: 2 } }), ['map.b: Invalid value: "integer": map.b in body must be of type string: "integer"']);
    assert.deepEqual(v({ anyMap: { a: { b: 1 } } }), []);
    assert.deepEqual(v({ list: [{ name: 'a' }, { name: 'a', v: 1 }] }), ['list[1]: Duplicate value: {"name":"a"}']);
    assert.deepEqual(v({ set: ['a', 'b', 'a', 'c'] }), ['set: Too many: 4: must have at most 3 items', 'set[2]: Duplicate value: "a"']);
    assert.deepEqual(v({ embedded: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: {} } }), []);
    assert.deepEqual(v({ embedded: { metadata: {} } }), ['embedded.apiVersion: Required value: must not be empty', 'embedded.kind: Required value: must not be empty']);
    assert.deepEqual(v({ quantity: '5Gi' }), []);
    assert.deepEqual(v({ quantity: 5 }), []);
    assert.deepEqual(v({ quantity: '5TB' }), [`quantity: Invalid value: "5TB": quantity in body should match '^[0-9]+(Mi|Gi)?$'`]);
    assert.deepEqual(v({ name: 'a' }), ['name: Invalid value: "a": name in body should be at least 2 chars long']);
    assert.deepEqual(v({ name: 'abcde' }), ['name: Too long: may not be more than 4 bytes']);
  });

  test('applyDefaults fills defaults under present parents and prunes non-nullable nulls', () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: {
        spec: { type: 'object', properties: { a: { type: 'string', default: 'x' }, b: { type: 'integer' }, c: { type: 'object', properties: { d: { type: 'boolean', default: true } } } } },
      },
    };
    assert.deepEqual(applyDefaults(schema, { spec: { b: null, c: {} } }), { spec: { a: 'x', c: { d: true } } });
    assert.deepEqual(applyDefaults(schema, {}), {});
  });
});

describe('CEL subset', () => {
  test('evaluates the operators the CRDs use and refuses what it does not know', () => {
    const ev = (rule: string, self: unknown, oldSelf?: unknown) => evalCel(compileCel(rule), { self, oldSelf });
    assert.equal(ev('has(self.name) && has(self.__namespace__)', { name: 'a', namespace: 'b' }), true);
    assert.equal(ev('size(self) > 0', ''), false);
    assert.equal(ev('self == oldSelf', { a: [1, 2] }, { a: [1, 2] }), true);
    assert.equal(ev("self.all(x, x.startsWith('p'))", ['pa', 'pb']), true);
    assert.equal(ev("self.exists(x, x == 'q')", ['pa', 'pb']), false);
    assert.equal(ev('self.size() == 2 ? "two" : "other"', [1, 2]), 'two');
    assert.equal(ev("'b' in self", { b: 1 }), true);
    assert.throws(() => compileCel('self.matches(^bad'), CelUnsupported);
    assert.throws(() => ev('quantity(self).isGreaterThan(1)', '1'), CelUnsupported);
  });
});
