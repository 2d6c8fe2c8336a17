// Getting a cluster: the kind CLI argv (through an injected spawner), existing kubeconfigs and contexts, and the
// installs of the kind setup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeKubelet, labelsOf, startFake, within } from './helpers.ts';
import { connectCluster, isKubeconfigContent, kindCreateArgs, kindDeleteArgs, loadKubeconfig } from '../../src/platform/kubernetes/cluster.ts';
import { installComponents, veleroInstallArgs } from '../../src/platform/kubernetes/install.ts';
import type { SpawnOptions, SpawnResult, Spawner } from '../../src/platform/kubernetes/spawn.ts';
import { maskSecrets } from '../../src/platform/secrets.ts';

interface Call {
  cmd: string;
  args: string[];
  opts: SpawnOptions;
}

function fakeSpawner(answer: (c: Call) => Partial<SpawnResult> | Promise<Partial<SpawnResult>>): { spawner: Spawner; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    spawner: async (cmd, args, opts) => {
      const c = { cmd, args: [...args], opts };
      calls.push(c);
      const a = await answer(c);
      return { exitCode: 'exitCode' in a ? (a.exitCode ?? null) : 0, stdout: a.stdout ?? '', stderr: a.stderr ?? '' };
    },
  };
}

test('kind argv: create with its own kubeconfig file, wait, optional node image; delete by name', () => {
  assert.deepEqual(kindCreateArgs('pvbench', '/tmp/k/kubeconfig'), ['create', 'cluster', '--name', 'pvbench', '--kubeconfig', '/tmp/k/kubeconfig', '--wait', '180s']);
  assert.deepEqual(kindCreateArgs('x', '/k', { image: 'kindest/node:v1.31.0', waitSeconds: 60 }).slice(-4), ['--wait', '60s', '--image', 'kindest/node:v1.31.0']);
  assert.deepEqual(kindDeleteArgs('pvbench', '/k'), ['delete', 'cluster', '--name', 'pvbench', '--kubeconfig', '/k']);
});

test('mode kind creates a missing cluster, connects through its kubeconfig, deletes it on dispose', async () => {
  const { server } = await startFake();
  try {
    const { spawner, calls } = fakeSpawner((c) => {
      const sub = c.args.slice(0, 2).join(' ');
      if (c.args[0] === 'version') return { stdout: 'kind v0.27.0 go1.23 linux/amd64\n' };
      if (sub === 'get clusters') return { stdout: 'other\n' };
      if (sub === 'get kubeconfig') return { stdout: server.kubeconfigYaml() };
      return {};
    });
    const cluster = await connectCluster({ mode: 'kind', name: 'pvbench', keep: false }, { spawner });
    assert.equal(cluster.created, true);
    assert.match(cluster.describe(), /kind cluster "pvbench" \(Kubernetes v1\.31\.0\)/);
    const create = calls.find((c) => c.args[0] === 'create')!;
    assert.equal(create.cmd, 'kind');
    assert.deepEqual(create.args.slice(0, 5), ['create', 'cluster', '--name', 'pvbench', '--kubeconfig']);
    assert.ok(create.opts.timeoutMs > 0);
    assert.deepEqual(calls.find((c) => c.args[1] === 'kubeconfig')?.args, ['get', 'kubeconfig', '--name', 'pvbench']);
    assert.match(await readFile(cluster.kubeconfigPath, 'utf8'), new RegExp(server.url.replace(/[.]/g, '\\.')));
    assert.equal(maskSecrets(`token ${server.token}`), 'token ***', 'the kubeconfig token is masked');
    await cluster.dispose();
    await cluster.dispose();
    const deletes = calls.filter((c) => c.args[0] === 'delete');
    assert.equal(deletes.length, 1, 'deleted once');
    assert.deepEqual(deletes[0]!.args.slice(0, 4), ['delete', 'cluster', '--name', 'pvbench']);
  } finally {
    await server.close();
  }
});

test('mode kind reuses an existing cluster and never deletes what it did not create; keep keeps a created one', async () => {
  const { server } = await startFake();
  try {
    const existing = fakeSpawner((c) => (c.args[0] === 'get' && c.args[1] === 'clusters' ? { stdout: 'pvbench\n' } : c.args[1] === 'kubeconfig' ? { stdout: server.kubeconfigYaml() } : {}));
    const reused = await connectCluster({ mode: 'kind', name: 'pvbench', keep: false }, { spawner: existing.spawner });
    assert.equal(reused.created, false);
    await reused.dispose();
    assert.equal(existing.calls.some((c) => c.args[0] === 'create' || c.args[0] === 'delete'), false);

    const kept = fakeSpawner((c) => (c.args[1] === 'kubeconfig' ? { stdout: server.kubeconfigYaml() } : {}));
    const k = await connectCluster({ mode: 'kind', name: 'pvbench', keep: true }, { spawner: kept.spawner });
    assert.equal(k.created, true);
    await k.dispose();
    assert.equal(kept.calls.some((c) => c.args[0] === 'delete'), false, 'keep: true keeps the cluster');
  } finally {
    await server.close();
  }
});

test('mode kind reports a cluster before creating it (a cancel during creation can still delete it); never for a reused one', async () => {
  const { server } = await startFake();
  try {
    const order: string[] = [];
    const creating = fakeSpawner((c) => {
      order.push(`kind ${c.args.slice(0, 2).join(' ')}`);
      if (c.args[0] === 'get' && c.args[1] === 'clusters') return { stdout: '' };
      return c.args[1] === 'kubeconfig' ? { stdout: server.kubeconfigYaml() } : {};
    });
    const cluster = await connectCluster({ mode: 'kind', name: 'pvbench', keep: false }, { spawner: creating.spawner, onCreating: (name) => order.push(`onCreating ${name}`) });
    assert.deepEqual(order.slice(0, 4), ['kind version', 'kind get clusters', 'onCreating pvbench', 'kind create cluster']);
    await cluster.dispose();

    const told: string[] = [];
    const existing = fakeSpawner((c) => (c.args[0] === 'get' && c.args[1] === 'clusters' ? { stdout: 'pvbench\n' } : c.args[1] === 'kubeconfig' ? { stdout: server.kubeconfigYaml() } : {}));
    const reused = await connectCluster({ mode: 'kind', name: 'pvbench', keep: false }, { spawner: existing.spawner, onCreating: (name) => told.push(name) });
    await reused.dispose();
    assert.deepEqual(told, []);
  } finally {
    await server.close();
  }
});

test('mode kind without kind, or with a failing create, says what to fix', async () => {
  const missing = fakeSpawner(() => ({ exitCode: null, stderr: 'kind is not on PATH' }));
  await assert.rejects(connectCluster({ mode: 'kind', name: 'pvbench', keep: false }, { spawner: missing.spawner }), /kind is not available \(kind is not on PATH\)\. Fix: install kind/);
  const failing = fakeSpawner((c) => (c.args[0] === 'create' ? { exitCode: 1, stderr: 'ERROR: failed to create cluster: docker: permission denied' } : {}));
  await assert.rejects(connectCluster({ mode: 'kind', name: 'pvbench', keep: false }, { spawner: failing.spawner }), /kind create cluster failed \(exit 1\).*permission denied.*is Docker running\?/);
});

test('existing cluster: kubeconfig as content or path, context selection, clear errors', async () => {
  const { server } = await startFake();
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-kc-'));
  try {
    const yaml = server.kubeconfigYaml();
    assert.equal(isKubeconfigContent(yaml), true);
    assert.equal(isKubeconfigContent('~/.kube/config'), false);
    const fromContent = await connectCluster({ mode: 'existing', name: 'pvbench', keep: false, kubeconfig: yaml });
    assert.match(fromContent.describe(), /cluster http:\/\/127\.0\.0\.1:\d+ \(context \S+\) \(Kubernetes v1\.31\.0\)/);
    await fromContent.dispose();
    const path = join(dir, 'config');
    await writeFile(path, yaml);
    const fromPath = await connectCluster({ mode: 'existing', name: 'pvbench', keep: false, kubeconfig: path });
    await fromPath.dispose();
    const fromEnv = loadKubeconfig({}, { KUBECONFIG: `${path}:/nonexistent` });
    assert.equal(fromEnv.getCurrentCluster()?.server, server.url);
    assert.throws(() => loadKubeconfig({ kubeconfig: path, context: 'prod' }), /the kubeconfig has no context "prod" \(it has: \S+\)\. Fix: set platform\.cluster\.context/);
    assert.throws(() => loadKubeconfig({ kubeconfig: join(dir, 'missing') }), /cannot load the kubeconfig file .*missing.*Fix: point platform\.cluster\.kubeconfig/);
    await server.close();
    await assert.rejects(connectCluster({ mode: 'existing', name: 'x', keep: false, kubeconfig: yaml }), /cannot reach the API server at http:\/\/127\.0\.0\.1:\d+.*Fix: check platform\.cluster\.kubeconfig/);
  } finally {
    await server.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});

test('installs: snapshot CRDs + controller + hostpath driver via argv, MinIO via the API, Velero via velero install', async () => {
  const fake = await startFake();
  const off = fakeKubelet(fake.server);
  try {
    let secretFile = '';
    const { spawner, calls } = fakeSpawner(async (c) => {
      if (c.cmd === 'velero') {
        secretFile = await readFile(c.args[c.args.indexOf('--secret-file') + 1]!, 'utf8');
        // velero install creates the node agent and the Deployment
        fake.server.put({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'node-agent', namespace: 'velero' }, spec: { selector: { matchLabels: { name: 'node-agent' } }, template: { metadata: { labels: { name: 'node-agent' } }, spec: { containers: [{ name: 'node-agent', image: 'velero/velero:v1.18.3', args: ['node-agent', 'server'] }] } } } });
        fake.server.put({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'velero', namespace: 'velero' }, spec: { selector: { matchLabels: { deploy: 'velero' } }, template: { metadata: { labels: { deploy: 'velero' } }, spec: { containers: [{ name: 'velero', image: 'velero/velero:v1.17.0' }] } } } });
      }
      return {};
    });
    fake.server.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'velero' } });
    const cluster = { kc: fake.kc, kube: fake.kube, kubeconfigPath: '/tmp/kc', created: false, describe: () => 'fake', dispose: async () => undefined };
    const done = await within(installComponents(cluster, { install: { velero: true, minio: true, csiHostpath: true }, runId: 'run1', readyTimeoutMs: 10_000 }, { spawner }), 20_000, 'installs');
    assert.deepEqual(done, ['csi-hostpath', 'minio', 'velero']);
    const argv = calls.map((c) => [c.cmd, ...c.args]);
    assert.deepEqual(argv[0], ['kubectl', '--kubeconfig', '/tmp/kc', 'apply', '-k', 'https://github.com/kubernetes-csi/external-snapshotter/client/config/crd?ref=v8.4.0']);
    assert.deepEqual(argv[1], ['kubectl', '--kubeconfig', '/tmp/kc', 'apply', '-k', 'https://github.com/kubernetes-csi/external-snapshotter/deploy/kubernetes/snapshot-controller?ref=v8.4.0']);
    assert.deepEqual(argv[2]!.slice(0, 6), ['git', 'clone', '--depth', '1', '--branch', 'v1.15.0']);
    assert.equal(argv[3]![0], 'bash');
    assert.match(argv[3]![1]!, /deploy\/kubernetes-latest\/deploy\.sh$/);
    assert.equal(calls[3]!.opts.env?.KUBECONFIG, '/tmp/kc');
    const velero = argv[4]!;
    assert.equal(velero[0], 'velero');
    for (const flag of ['--use-node-agent', '--features=EnableCSI', '--wait']) assert.ok(velero.includes(flag), flag);
    assert.equal(velero[velero.indexOf('--uploader-type') + 1], 'kopia');
    assert.equal(velero[velero.indexOf('--backup-location-config') + 1], 'region=minio,s3ForcePathStyle=true,s3Url=http://minio.minio.svc:9000');
    assert.match(secretFile, /^\[default\]\naws_access_key_id=pvbench\naws_secret_access_key=[0-9a-f]{36}\n$/);
    assert.ok(fake.server.get('storage.k8s.io/v1', 'storageclasses', undefined, 'csi-hostpath-sc'));
    assert.equal(fake.server.get('snapshot.storage.k8s.io/v1', 'volumesnapshotclasses', undefined, 'csi-hostpath-snapclass')?.metadata.labels?.['velero.io/csi-volumesnapshot-class' as never], 'true');
    // MinIO outlives the run, as the Velero configured with its credentials does: a run's cleanup (by the run label)
    // must not take away the store while Velero stays, or the next run's credentials would not match.
    for (const [plural, ns, name] of [['namespaces', undefined, 'minio'], ['deployments', 'minio', 'minio'], ['secrets', 'minio', 'minio-root'], ['services', 'minio', 'minio']] as const) {
      const o = fake.server.get(plural === 'namespaces' ? 'v1' : plural === 'deployments' ? 'apps/v1' : 'v1', plural, ns, name);
      assert.equal(labelsOf(o)['pvbench.dev/run'], undefined, `${plural} ${name} carries no run label`);
      assert.equal(labelsOf(o)['pvbench.dev/installed-by'], 'run1');
    }
    // A transfer whose data-mover pod never starts fails in 90 s, not Velero's 30 minutes.
    const agent = fake.server.get('apps/v1', 'daemonsets', 'velero', 'node-agent') as unknown as { spec: { template: { spec: { containers: { args: string[] }[] } } } };
    assert.deepEqual(agent.spec.template.spec.containers[0]!.args, ['node-agent', 'server', '--data-mover-prepare-timeout=90s']);
    // Its location sits under a prefix of its own, so pvbench's trial locations (pvbench/...) go beside it.
    assert.equal(velero[velero.indexOf('--prefix') + 1], 'velero');
    assert.equal(maskSecrets(secretFile).includes(secretFile.split('=').pop()!.trim()), false, 'the MinIO password is masked');
    assert.deepEqual(veleroInstallArgs({ kubeconfig: 'k', namespace: 'v', bucket: 'b', s3Url: 'u', secretFile: 's', version: 'v9', awsPlugin: 'v8' }).slice(5, 11), ['--image', 'velero/velero:v9', '--provider', 'aws', '--plugins', 'velero/velero-plugin-for-aws:v8']);
    // platform.images: images built on the node, or in a private registry.
    assert.deepEqual(veleroInstallArgs({ kubeconfig: 'k', namespace: 'v', bucket: 'b', s3Url: 'u', secretFile: 's', image: 'pvbench.local/velero:x', pluginImage: 'registry.example/aws:y' }).slice(5, 11), ['--image', 'pvbench.local/velero:x', '--provider', 'aws', '--plugins', 'registry.example/aws:y']);

    // Everything present: nothing is run again.
    calls.length = 0;
    fake.server.put({ apiVersion: 'storage.k8s.io/v1', kind: 'CSIDriver', metadata: { name: 'hostpath.csi.k8s.io' }, spec: {} });
    const again = await within(installComponents(cluster, { install: { velero: true, minio: true, csiHostpath: true }, runId: 'run2', readyTimeoutMs: 10_000 }, { spawner }), 20_000, 'idempotent installs');
    assert.deepEqual(again, ['minio']);
    assert.deepEqual(calls, []);
  } finally {
    off();
    await fake.server.close();
  }
});
