// The pure object builders: names, labels, every custom resource validated against the upstream CRD schemas,
// and the inline pod scripts run here with plain node (they run the same way inside node:24-slim).
import { runProcess } from '../helpers/process.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { loadCrds, validateObject, formatFieldError } from '../fake-apiserver/schema.ts';
import { workloadSchema } from '../../src/config/schema.ts';
import { CLI_PATH, RESULT_PREFIX, RUN_LABEL, UNPACK_SCRIPT, cliConfigMaps, corruptCommand, estimateVolumeBytes, k8sName, manifestCommand, parseLocation, prefixHashCommand, proxyPod, pvc, seedCommand, churnCommand, setLocation, setNamespace, taskJob, taskPod, volumeSize, writerCommand } from '../../src/platform/kubernetes/objects.ts';
import { S3_SCRIPT, s3Pod } from '../../src/platform/kubernetes/object-store.ts';
import { backupStorageLocation, deleteBackupRequest, veleroBackup, veleroRestore } from '../../src/tools/velero-objects.ts';
import { csiHostpathSnapshotClass, snapshotContentCopy, snapshotFromContent, volumeSnapshot, hostPathCorruptPod } from '../../src/tools/csi-snapshot-objects.ts';
import type { KubeObject } from '../../src/platform/kubernetes/client.ts';

const crds = loadCrds();
const workload = workloadSchema.parse({});

function assertValid(obj: KubeObject): void {
  assert.deepEqual(validateObject(crds, obj).map(formatFieldError), [], `${obj.kind} ${obj.metadata.name} should match its CRD`);
}

function labelled(obj: KubeObject, runId: string): void {
  assert.equal(obj.metadata.labels?.[RUN_LABEL], runId, `${obj.kind} ${obj.metadata.name} carries the run label`);
}

/** Run `node <args>` with a deadline; resolves with exit code and output. */
function runNode(args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 20_000) {
  return runProcess(process.execPath, args, { env, timeoutMs });
}

test('k8sName keeps valid names and shortens long ones with a hash', () => {
  assert.equal(k8sName('velero-fs-no-fault-1'), 'velero-fs-no-fault-1');
  assert.equal(k8sName('Velero_FS no fault!'), 'velero-fs-no-fault');
  assert.equal(k8sName('--x--'), 'x');
  const long = 'a'.repeat(40) + '-' + 'b'.repeat(40);
  const n = k8sName(long);
  assert.equal(n.length <= 63, true);
  assert.match(n, /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
  assert.notEqual(k8sName(long + 'c'), n, 'distinct inputs stay distinct');
  assert.equal(k8sName(long, 253), long, 'subdomain names may be longer');
});

test('volume set locations name a namespace and a selector', () => {
  const ns = setNamespace('pvbench', 'velero-fs-crash-backup-1');
  assert.equal(ns, 'pvbench-velero-fs-crash-backup-1');
  const loc = setLocation(ns, 'velero-fs-crash-backup-1');
  assert.deepEqual(parseLocation(loc), { namespace: ns, selector: 'pvbench.dev/set=velero-fs-crash-backup-1' });
  assert.throws(() => parseLocation('/nope'), /namespace\/selector/);
});

test('PVC sizes cover the generated workload with room for churn', () => {
  const est = estimateVolumeBytes(workload);
  assert.ok(est > 3_000_000, `default workload is ~3 MB per proxy (estimate ${est})`);
  assert.equal(volumeSize(workload), '256Mi');
  const big = workloadSchema.parse({ accessLogLines: 2_000_000 });
  assert.ok(parseInt(volumeSize(big)) * 2 ** 20 > 2 * 2_000_000 * 212);
});

test('the CLI bundle is split into ConfigMaps that the unpack script reassembles', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-unpack-'));
  try {
    const original = Buffer.from('export const x = 1;\n'.repeat(5000) + Array.from({ length: 3000 }, (_, i) => `// ${createHash('sha256').update(String(i)).digest('hex')}\n`).join(''));
    const gz = gzipSync(original);
    const { bundle, objects } = cliConfigMaps('ns1', 'run1', gz, 10_000);
    assert.ok(objects.length > 1, 'several parts');
    assert.equal(bundle.configMaps.length, objects.length);
    for (const o of objects) {
      labelled(o, 'run1');
      const data = (o.binaryData as Record<string, string>).part!;
      assert.ok(Buffer.from(data, 'base64').length <= 10_000);
    }
    // Lay the parts out as the projected volume does (plus the ..data entries a real volume has).
    const parts = join(dir, 'parts');
    await mkdir(join(parts, '..data'), { recursive: true });
    for (const [i, o] of objects.entries()) await writeFile(join(parts, `part-${String(i).padStart(3, '0')}`), Buffer.from((o.binaryData as Record<string, string>).part!, 'base64'));
    const out = join(dir, 'pvbench', 'cli.mjs');
    const r = await runNode(['-e', UNPACK_SCRIPT, parts, out]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readFile(out), original);
    assert.deepEqual(gunzipSync(gz), original);
    const empty = cliConfigMaps('ns1', 'run1', Buffer.alloc(0));
    assert.equal(empty.objects.length, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('pods and Jobs: run label, CLI unpack init container, volumes, node pinning, argv commands', () => {
  const { bundle } = cliConfigMaps('ns1', 'run1', gzipSync(Buffer.from('x')));
  const job = taskJob({
    name: 'seed-proxy-0',
    namespace: 'ns1',
    runId: 'run1',
    role: 'seed',
    image: 'node:24-slim',
    command: seedCommand(0, 42, workload),
    mounts: [{ claim: 'proxy-0', mountPath: '/data' }],
    cli: bundle,
    activeDeadlineSeconds: 300,
  });
  labelled(job, 'run1');
  const spec = job.spec.template.spec;
  assert.equal(job.spec.template.metadata.labels[RUN_LABEL], 'run1');
  assert.equal(spec.restartPolicy, 'Never');
  assert.deepEqual(spec.initContainers[0].command.slice(0, 2), ['node', '-e']);
  assert.deepEqual(spec.initContainers[0].command.slice(3), ['/cli-parts', CLI_PATH]);
  assert.deepEqual(spec.containers[0].command.slice(0, 9), ['node', CLI_PATH, 'seed', '--volume', '/data', '--proxy', '0', '--seed', '42']);
  assert.deepEqual(JSON.parse(spec.containers[0].command[10]), workload);
  assert.equal(spec.volumes[0].persistentVolumeClaim.claimName, 'proxy-0');
  assert.equal(spec.volumes[1].projected.sources[0].configMap.name, bundle.configMaps[0]);
  assert.deepEqual(churnCommand(3, 7, workload, 1).slice(2, 11), ['churn', '--volume', '/data', '--proxy', '3', '--seed', '7', '--round', '1']);
  assert.deepEqual(manifestCommand(), ['node', CLI_PATH, 'manifest', '/data']);

  const pod = taskPod({ name: 'm', namespace: 'ns1', runId: 'run1', role: 'manifest', image: 'img', command: manifestCommand(), mounts: [{ claim: 'proxy-1', mountPath: '/data', readOnly: true }], cli: bundle, nodeName: 'node-1' });
  labelled(pod, 'run1');
  assert.equal(pod.spec.nodeName, 'node-1');
  assert.equal(pod.spec.volumes[0].persistentVolumeClaim.readOnly, true);

  const proxy = proxyPod({ namespace: 'ns1', runId: 'run1', setId: 'set-a', volume: 'proxy-2', image: 'img' });
  assert.equal(proxy.metadata.name, 'proxy-2');
  assert.equal(proxy.metadata.labels?.['pvbench.dev/set'], 'set-a');
  assert.equal(proxy.spec.restartPolicy, 'Always');
  assert.equal(job.metadata.labels?.['pvbench.dev/set'], undefined, 'seeding Jobs are not part of the backed-up set');

  const claim = pvc({ name: 'proxy-0', namespace: 'ns1', runId: 'run1', setId: 'set-a', storageClass: 'csi-hostpath-sc', size: '256Mi', fromSnapshot: 'snap-1' });
  labelled(claim, 'run1');
  assert.deepEqual(claim.spec.dataSource, { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'snap-1' });
  assert.equal(claim.spec.storageClassName, 'csi-hostpath-sc');
  const noClass = pvc({ name: 'p', namespace: 'n', runId: 'r', setId: 's', size: '1Gi' });
  assert.equal('storageClassName' in noClass.spec, false, 'no class: the default one');
});

test('Velero objects are valid against the Velero CRDs', () => {
  const bsl = backupStorageLocation({
    name: 'pvbench-run1-t1',
    namespace: 'velero',
    runId: 'run1',
    prefix: 'pvbench/run1/t1',
    source: { provider: 'aws', bucket: 'velero', prefix: 'cluster-a/', config: { region: 'minio', s3ForcePathStyle: 'true', s3Url: 'http://minio.minio.svc:9000' }, credential: { name: 'cloud-credentials', key: 'cloud' } },
  });
  assertValid(bsl);
  labelled(bsl, 'run1');
  // Beside the source location's prefix, never inside it: Velero marks a location Unavailable when its prefix holds
  // top-level folders it does not know.
  assert.deepEqual(bsl.spec.objectStorage, { bucket: 'velero', prefix: 'pvbench/run1/t1' });
  assert.equal(bsl.spec.default, false);

  const base = { name: 'b1', namespace: 'velero', runId: 'run1', trial: 't1', storageLocation: 'pvbench-run1-t1', includedNamespace: 'pvbench-t1', setLabel: 't1', timeoutSeconds: 900 };
  const fs = veleroBackup({ ...base, mode: 'fs', parallelFilesUpload: 4 });
  assertValid(fs);
  labelled(fs, 'run1');
  assert.equal(fs.spec.defaultVolumesToFsBackup, true);
  assert.equal(fs.spec.snapshotVolumes, false);
  assert.deepEqual(fs.spec.labelSelector, { matchLabels: { 'pvbench.dev/set': 't1' } });
  assert.deepEqual(fs.spec.uploaderConfig, { parallelFilesUpload: 4 });
  const csi = veleroBackup({ ...base, mode: 'csi' });
  assertValid(csi);
  assert.equal(csi.spec.snapshotVolumes, true);
  assert.equal(csi.spec.snapshotMoveData, undefined);
  const move = veleroBackup({ ...base, mode: 'csi', snapshotMoveData: true });
  assertValid(move);
  assert.equal(move.spec.snapshotMoveData, true);

  const restore = veleroRestore({ name: 'r1', namespace: 'velero', runId: 'run1', trial: 't1', backupName: 'b1', namespaceMapping: { 'pvbench-t1': 'pvbench-t1-restore-0' } });
  assertValid(restore);
  labelled(restore, 'run1');
  assert.deepEqual(restore.spec.namespaceMapping, { 'pvbench-t1': 'pvbench-t1-restore-0' });
  const dbr = deleteBackupRequest({ name: 'd1', namespace: 'velero', runId: 'run1', backupName: 'b1' });
  assertValid(dbr);
  labelled(dbr, 'run1');
});

test('snapshot objects are valid against the snapshot CRDs', () => {
  const vs = volumeSnapshot({ name: 's1', namespace: 'ns1', runId: 'run1', trial: 't1', group: 'g1', pvc: 'proxy-0', className: 'csi-hostpath-snapclass' });
  assertValid(vs);
  labelled(vs, 'run1');
  const content = snapshotContentCopy({ name: 'c1', runId: 'run1', trial: 't1', driver: 'hostpath.csi.k8s.io', snapshotHandle: 'abc', className: 'csi-hostpath-snapclass', sourceVolumeMode: 'Filesystem', snapshotRef: { name: 's2', namespace: 'ns2' } });
  assertValid(content);
  labelled(content, 'run1');
  assert.equal(content.spec.deletionPolicy, 'Retain');
  const fromContent = snapshotFromContent({ name: 's2', namespace: 'ns2', runId: 'run1', trial: 't1', content: 'c1', className: 'csi-hostpath-snapclass', volume: 'proxy-0' });
  assertValid(fromContent);
  labelled(fromContent, 'run1');
  assertValid(csiHostpathSnapshotClass());
});

test('the prefix-hash and corruption scripts work on real files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-scripts-'));
  try {
    await mkdir(join(dir, 'logs'));
    const content = Buffer.from('line one\nline two\nline three\n');
    await writeFile(join(dir, 'logs', 'access.log'), content);
    await writeFile(join(dir, 'a.json'), '{"a":1}');
    await writeFile(join(dir, 'b.prom'), 'x 1\n');
    const hashes = await runNode(prefixHashCommand([{ path: 'logs/access.log', length: 9 }, { path: 'missing', length: 3 }], dir).slice(1));
    assert.equal(hashes.code, 0, hashes.stderr);
    const parsed = JSON.parse(hashes.stdout.trim().slice(RESULT_PREFIX.length)) as { path: string; size: number; sha256: string }[];
    assert.deepEqual(parsed[0], { path: 'logs/access.log', size: 9, sha256: createHash('sha256').update(content.subarray(0, 9)).digest('hex') });
    assert.equal(parsed[1]?.size, -1);

    const cmd = corruptCommand(
      [
        { op: 'flip', path: 'logs/access.log', offset: 0, bit: 0 },
        { op: 'truncate', path: 'a.json' },
        { op: 'delete', path: 'b.prom' },
        { op: 'delete', path: 'not-there' },
      ],
      dir,
    );
    const r = await runNode(cmd.slice(1));
    assert.equal(r.code, 0, r.stderr);
    const results = JSON.parse(r.stdout.trim().slice(RESULT_PREFIX.length)) as { ok: boolean }[];
    assert.deepEqual(results.map((x) => x.ok), [true, true, true, false]);
    assert.equal((await readFile(join(dir, 'logs', 'access.log')))[0], content[0]! ^ 1);
    assert.equal((await readFile(join(dir, 'a.json'), 'utf8')).length, 3);
    await assert.rejects(readFile(join(dir, 'b.prom')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the writer script appends, fsyncs and acknowledges each write with the new end offset', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-writer-'));
  try {
    await writeFile(join(dir, 'feed.log'), 'alpha\nbeta\n');
    const file = join(dir, 'logs', 'access.log');
    const cmd = writerCommand(file, join(dir, 'feed.log'), 200);
    const child = spawn(process.execPath, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: number[] = [];
    let buffered = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the writer acknowledged fewer than 5 writes within 20 s')), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        buffered += d.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const l of lines) if (l.startsWith('W ')) acks.push(Number(l.split(' ')[2]));
        if (acks.length >= 5) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    const written = await readFile(file, 'utf8');
    assert.ok(written.startsWith('alpha\nbeta\nalpha\n'));
    assert.ok(acks.every((a, i) => i === 0 || a > acks[i - 1]!), 'offsets grow');
    assert.ok(written.length >= acks[acks.length - 1]!, 'every acknowledged byte is in the file');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the S3 script lists, flips and removes objects and makes buckets, with signed requests', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-s3-'));
  const store = new Map<string, Buffer>([
    ['pvbench/r/t/kopia/ns/p0123', Buffer.from('pack-data-0123456789')],
    ['pvbench/r/t/kopia/ns/kopia.repository', Buffer.from('{}')],
    ['other/x', Buffer.from('zz')],
  ]);
  const auth: string[] = [];
  const buckets = new Set<string>(['velero']);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    auth.push(String(req.headers.authorization));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const [, bucket, ...rest] = url.pathname.split('/');
      const key = rest.map(decodeURIComponent).join('/');
      if (req.method === 'GET' && !key) {
        const prefix = url.searchParams.get('prefix') ?? '';
        const items = [...store].filter(([k]) => k.startsWith(prefix));
        res.end(`<ListBucketResult>${items.map(([k, v]) => `<Contents><Key>${k}</Key><Size>${v.length}</Size></Contents>`).join('')}<IsTruncated>false</IsTruncated></ListBucketResult>`);
      } else if (req.method === 'GET') res.end(store.get(key));
      else if (req.method === 'PUT' && !key) {
        buckets.add(bucket!);
        res.end();
      } else if (req.method === 'HEAD' && !key) res.writeHead(buckets.has(bucket!) ? 200 : 404).end();
      else if (req.method === 'PUT') {
        store.set(key, Buffer.concat(chunks));
        res.end();
      } else if (req.method === 'DELETE') {
        store.delete(key);
        res.writeHead(204).end();
      } else res.writeHead(405).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const creds = join(dir, 'cloud');
    await writeFile(creds, '[default]\naws_access_key_id = AKID\naws_secret_access_key = SECRET\n');
    const env = { ...process.env, AWS_SHARED_CREDENTIALS_FILE: creds, S3_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, S3_BUCKET: 'velero', S3_REGION: 'minio' };
    const list = await runNode(['-e', S3_SCRIPT, 'list', 'pvbench/r/t/'], env);
    assert.equal(list.code, 0, list.stderr);
    const objects = JSON.parse(list.stdout.trim().slice(RESULT_PREFIX.length)) as { key: string; size: number }[];
    assert.deepEqual(objects.map((o) => o.key).sort(), ['pvbench/r/t/kopia/ns/kopia.repository', 'pvbench/r/t/kopia/ns/p0123']);
    const flip = await runNode(['-e', S3_SCRIPT, 'flip', JSON.stringify([{ key: 'pvbench/r/t/kopia/ns/p0123', offset: 2, bit: 1 }])], env);
    assert.equal(flip.code, 0, flip.stderr);
    assert.equal(store.get('pvbench/r/t/kopia/ns/p0123')!.toString()[2], String.fromCharCode('c'.charCodeAt(0) ^ 2));
    assert.ok(auth.every((a) => a.startsWith('AWS4-HMAC-SHA256 Credential=AKID/') && a.includes('/minio/s3/aws4_request') && /Signature=[0-9a-f]{64}$/.test(a)));
    // rm deletes every object below the prefix, and nothing else.
    const removed = await runNode(['-e', S3_SCRIPT, 'rm', 'pvbench/r/t/'], env);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(JSON.parse(removed.stdout.trim().slice(RESULT_PREFIX.length)), { deleted: 2 });
    assert.deepEqual([...store.keys()], ['other/x']);
    // mkbucket creates a missing bucket once, and leaves an existing one alone.
    const mk = await runNode(['-e', S3_SCRIPT, 'mkbucket'], { ...env, S3_BUCKET: 'fresh' });
    assert.equal(mk.code, 0, mk.stderr);
    assert.deepEqual(JSON.parse(mk.stdout.trim().slice(RESULT_PREFIX.length)), { bucket: 'fresh', created: true });
    const again = await runNode(['-e', S3_SCRIPT, 'mkbucket'], { ...env, S3_BUCKET: 'fresh' });
    assert.deepEqual(JSON.parse(again.stdout.trim().slice(RESULT_PREFIX.length)), { bucket: 'fresh', created: false });
    const pod = s3Pod({ name: 's3', namespace: 'velero', runId: 'run1', image: 'node:24-slim', target: { endpoint: 'http://minio:9000', bucket: 'velero', region: 'minio', secret: { name: 'cloud-credentials', key: 'cloud' } }, args: ['list', 'x/'] });
    labelled(pod, 'run1');
    assert.deepEqual(pod.spec.volumes[0].secret, { secretName: 'cloud-credentials', items: [{ key: 'cloud', path: 'cloud' }] });
    const hp = hostPathCorruptPod({ name: 'c', namespace: 'ns', runId: 'run1', image: 'img', nodeName: 'n1', hostPath: '/var/lib/csi-hostpath-data', actions: [{ op: 'flip', path: 'h.snap', fraction: 0.5, bit: 3 }] });
    labelled(hp, 'run1');
    assert.equal(hp.spec.volumes[0].hostPath.path, '/var/lib/csi-hostpath-data');
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
