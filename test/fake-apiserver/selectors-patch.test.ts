// Label/field selector parsing and the patch formats the fake API server applies.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseLabelSelector, matchLabels, parseFieldSelector, matchFields, labelSelectorFromObject, SelectorError } from './selectors.ts';
import { applyMergePatch, applyJsonPatch, applyStrategicMergePatch, applyApply, PatchError } from './patch.ts';

describe('label selectors', () => {
  const m = (sel: string, labels: Record<string, string>) => matchLabels(parseLabelSelector(sel), labels);

  test('equality, inequality, set-based and existence requirements', () => {
    assert.equal(m('', {}), true);
    assert.equal(m('app=web', { app: 'web' }), true);
    assert.equal(m('app==web', { app: 'db' }), false);
    assert.equal(m('app!=web', {}), true, '!= matches when the key is absent');
    assert.equal(m('tier in (a, b),app', { tier: 'b', app: 'x' }), true);
    assert.equal(m('tier in (a,b)', {}), false);
    assert.equal(m('tier notin (a,b)', {}), true);
    assert.equal(m('!tier', { tier: 'a' }), false);
    assert.equal(m('example.com/role=db , !legacy', { 'example.com/role': 'db' }), true);
    assert.equal(m('gen>2', { gen: '3' }), true);
    assert.equal(m('gen<2', { gen: '3' }), false);
    assert.deepEqual(parseLabelSelector('a in (x),b'), [{ key: 'a', op: 'in', values: ['x'] }, { key: 'b', op: 'exists' }]);
  });

  test('malformed selectors throw', () => {
    for (const bad of ['a in (x', 'a in x', '=x', 'a=b c', 'a=bad value!', 'a>x']) assert.throws(() => parseLabelSelector(bad), SelectorError, bad);
  });

  test('metav1.LabelSelector objects', () => {
    const reqs = labelSelectorFromObject({ matchLabels: { app: 'x' }, matchExpressions: [{ key: 't', operator: 'NotIn', values: ['a'] }, { key: 'z', operator: 'DoesNotExist' }] });
    assert.equal(matchLabels(reqs, { app: 'x', t: 'b' }), true);
    assert.equal(matchLabels(reqs, { app: 'x', z: '' }), false);
  });
});

describe('field selectors', () => {
  test('=, ==, != on dotted paths with escapes', () => {
    const pod = { metadata: { name: 'p,1', namespace: 'ns' }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } };
    assert.equal(matchFields(parseFieldSelector('metadata.name=p\\,1,spec.nodeName==n1'), pod), true);
    assert.equal(matchFields(parseFieldSelector('status.phase!=Running'), pod), false);
    assert.equal(matchFields(parseFieldSelector('spec.missing='), pod), true);
    assert.throws(() => parseFieldSelector('nonsense'), SelectorError);
  });
});

describe('patches', () => {
  test('JSON merge patch (RFC 7386)', () => {
    assert.deepEqual(applyMergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { a: null, b: { c: 5 }, l: [3], n: { x: 1 } }), { b: { c: 5, d: 3 }, l: [3], n: { x: 1 } });
  });

  test('JSON patch (RFC 6902): add/remove/replace/move/copy/test and escaping', () => {
    const doc = { metadata: { annotations: { 'a/b': 'x' } }, list: [1, 2] };
    const out = applyJsonPatch(doc, [
      { op: 'add', path: '/list/1', value: 9 },
      { op: 'add', path: '/list/-', value: 3 },
      { op: 'replace', path: '/metadata/annotations/a~1b', value: 'y' },
      { op: 'copy', from: '/list/0', path: '/first' },
      { op: 'move', from: '/first', path: '/moved' },
      { op: 'test', path: '/moved', value: 1 },
      { op: 'remove', path: '/list/0' },
    ]);
    assert.deepEqual(out, { metadata: { annotations: { 'a/b': 'y' } }, list: [9, 2, 3], moved: 1 });
    assert.deepEqual(doc.list, [1, 2], 'input untouched');
    assert.throws(() => applyJsonPatch(doc, [{ op: 'test', path: '/list/0', value: 5 }]), (e: unknown) => e instanceof PatchError && e.code === 422);
    assert.throws(() => applyJsonPatch(doc, [{ op: 'remove', path: '/nope' }]), (e: unknown) => e instanceof PatchError && e.code === 422);
    assert.throws(() => applyJsonPatch(doc, { op: 'add' }), (e: unknown) => e instanceof PatchError && e.code === 400);
  });

  test('strategic merge patch (approximation for built-ins)', () => {
    const pod = { metadata: { finalizers: ['a'] }, spec: { containers: [{ name: 'a', image: '1', env: [{ name: 'X', value: '1' }] }, { name: 'b', image: '2' }], volumes: [{ name: 'v' }] } };
    const out = applyStrategicMergePatch(pod, {
      metadata: { finalizers: ['b'] },
      spec: { containers: [{ name: 'a', env: [{ name: 'Y', value: '2' }] }, { name: 'b', $patch: 'delete' }], volumes: [{ name: 'w' }] },
    });
    assert.deepEqual(out, {
      metadata: { finalizers: ['a', 'b'] },
      spec: { containers: [{ name: 'a', image: '1', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }] }], volumes: [{ name: 'v' }, { name: 'w' }] },
    });
    assert.deepEqual(applyStrategicMergePatch({ spec: { a: 1, b: 2 } }, { spec: { $patch: 'replace', c: 3 } }), { spec: { c: 3 } });
  });

  test('apply (approximation: recursive merge, keyed lists merged)', () => {
    const cur = { spec: { a: 1, items: [{ name: 'x', v: 1 }], tags: ['p'] } };
    const keys = (p: string[]) => (p.join('.') === 'spec.items' ? ['name'] : undefined);
    assert.deepEqual(applyApply(cur, { spec: { b: 2, items: [{ name: 'x', w: 2 }, { name: 'y' }], tags: ['q'] } }, keys), {
      spec: { a: 1, b: 2, items: [{ name: 'x', v: 1, w: 2 }, { name: 'y' }], tags: ['q'] },
    });
  });
});
