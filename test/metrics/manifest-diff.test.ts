// The pure side of manifests (issue 8: the mutation run of src/metrics/manifest.ts): diffManifests, acceptPrefixes,
// integrityFromDiff and compareManifests field by field, manifestCount of either kind, and a manifest list read back
// as a stream (sorted when it was not, in batches past 256 entries). The expected values are written out by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptPrefixes, compareManifests, diffManifests, integrityFromDiff, manifestCount, manifestEntries, manifestList } from '../../src/metrics/manifest.ts';
import type { ManifestEntry, ManifestList } from '../../src/metrics/types.ts';

const e = (path: string, sha256 = 'x', size = 1): ManifestEntry => ({ path, size, sha256 });
const list = (files: ManifestEntry[], bytes: number): ManifestList => ({ files, bytes });

test('diffManifests: matched needs the same size and the same hash; missing and extra by path, in manifest order', () => {
  const expected = list([e('m1'), e('hash', 'x', 3), e('size', 'x', 3), e('gone'), e('m2', 'y', 2)], 0);
  const actual = list([e('new2'), e('m2', 'y', 2), e('size', 'x', 4), e('hash', 'z', 3), e('new1'), e('m1')], 0);
  assert.deepEqual(diffManifests(expected, actual), {
    matched: ['m1', 'm2'],
    mismatched: ['hash', 'size'],
    missing: ['gone'],
    extra: ['new2', 'new1'],
  });
  assert.deepEqual(diffManifests(list([], 0), list([], 0)), { matched: [], mismatched: [], missing: [], extra: [] });
  assert.deepEqual(diffManifests(list([e('a')], 0), list([], 0)), { matched: [], mismatched: [], missing: ['a'], extra: [] });
  assert.deepEqual(diffManifests(list([], 0), list([e('a')], 0)), { matched: [], mismatched: [], missing: [], extra: ['a'] });
});

test('diffManifests: an actual entry is matched once; a path listed twice in expected is missing the second time', () => {
  assert.deepEqual(diffManifests(list([e('a'), e('a')], 0), list([e('a')], 0)), { matched: ['a'], mismatched: [], missing: ['a'], extra: [] });
});

test('acceptPrefixes moves the accepted mismatches to the end of matched and keeps the rest', () => {
  const diff = { matched: ['a'], mismatched: ['log1', 'b', 'log2'], missing: ['c'], extra: ['d'] };
  assert.deepEqual(acceptPrefixes(diff, new Set(['log2', 'log1', 'other'])), { matched: ['a', 'log1', 'log2'], mismatched: ['b'], missing: ['c'], extra: ['d'] });
  assert.deepEqual(acceptPrefixes(diff, new Set()), diff);
  // The input is left as it was.
  assert.deepEqual(diff, { matched: ['a'], mismatched: ['log1', 'b', 'log2'], missing: ['c'], extra: ['d'] });
});

test('integrityFromDiff: counts, the actual bytes, ok only without mismatches and missing files, five examples each', () => {
  const paths = (p: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${p}${i}`);
  const expected = list(Array.from({ length: 9 }, (_, i) => e(`f${i}`)), 900);
  const actual = list([], 1234);
  assert.deepEqual(integrityFromDiff(expected, actual, { matched: paths('m', 2), mismatched: paths('x', 7), missing: paths('g', 6), extra: paths('n', 8) }), {
    files: 9,
    matched: 2,
    mismatched: 7,
    missing: 6,
    extra: 8,
    bytes: 1234,
    ok: false,
    examples: { mismatched: ['x0', 'x1', 'x2', 'x3', 'x4'], missing: ['g0', 'g1', 'g2', 'g3', 'g4'], extra: ['n0', 'n1', 'n2', 'n3', 'n4'] },
  });
  assert.equal(integrityFromDiff(expected, actual, { matched: [], mismatched: [], missing: [], extra: ['n'] }).ok, true);
  assert.equal(integrityFromDiff(expected, actual, { matched: [], mismatched: ['x'], missing: [], extra: [] }).ok, false);
  assert.equal(integrityFromDiff(expected, actual, { matched: [], mismatched: [], missing: ['g'], extra: [] }).ok, false);
  assert.deepEqual(integrityFromDiff(expected, actual, { matched: [], mismatched: paths('x', 5), missing: [], extra: [] }).examples.mismatched, ['x0', 'x1', 'x2', 'x3', 'x4']);
});

test('compareManifests of an identical list is ok with every file matched', () => {
  const m = list([e('a', 'p', 5), e('b', 'q', 7)], 12);
  assert.deepEqual(compareManifests(m, list([e('b', 'q', 7), e('a', 'p', 5)], 12)), {
    files: 2,
    matched: 2,
    mismatched: 0,
    missing: 0,
    extra: 0,
    bytes: 12,
    ok: true,
    examples: { mismatched: [], missing: [], extra: [] },
  });
});

test('manifestCount of a list and of a manifest file', () => {
  assert.equal(manifestCount(list([e('a'), e('b'), e('c')], 3)), 3);
  assert.equal(manifestCount({ file: '/nowhere', count: 17, bytes: 5 }), 17);
});

test('manifestList of a list is that list', async () => {
  const m = list([e('b'), e('a')], 2);
  assert.equal(await manifestList(m), m);
});

async function entries(m: ManifestList): Promise<string[]> {
  const out: string[] = [];
  for await (const x of manifestEntries(m)) out.push(x.path);
  return out;
}

test('manifestEntries of a list: in code-unit path order, sorted when the list was not, every entry past a batch of 256', async () => {
  assert.deepEqual(await entries(list([e('b'), e('a/x'), e('a.txt'), e('A'), e('a0')], 0)), ['A', 'a.txt', 'a/x', 'a0', 'b']);
  assert.deepEqual(await entries(list([e('a'), e('b'), e('c')], 0)), ['a', 'b', 'c']);
  // Two equal paths in a row are not "sorted": the copy sorts them, and both come out.
  assert.deepEqual(await entries(list([e('b'), e('b'), e('a')], 0)), ['a', 'b', 'b']);
  assert.deepEqual(await entries(list([], 0)), []);
  const many = Array.from({ length: 600 }, (_, i) => `p${String(i).padStart(4, '0')}`);
  const unsorted = [...many.slice(300), ...many.slice(0, 300)];
  assert.deepEqual(await entries(list(many.map((p) => e(p)), 0)), many);
  assert.deepEqual(await entries(list(unsorted.map((p) => e(p)), 0)), many);
  // The list given is not reordered in place.
  const given = [e('b'), e('a')];
  await entries(list(given, 0));
  assert.deepEqual(given.map((x) => x.path), ['b', 'a']);
});
