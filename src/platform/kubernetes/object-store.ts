// Object storage for Velero: the MinIO pvbench installs on kind, and access to a bucket from inside the cluster
// (an S3 client script run in a pod) for the repository's size, corruption and cleanup. Pure builders.
import { INSTALLED_BY_LABEL, MANAGED_BY, RESULT_PREFIX, ROLE_LABEL, helperPodSpec, runLabels } from './objects.ts';
import type { KubeObject } from './client.ts';

// --- MinIO (the object store Velero writes to on kind) -----------------------------------------------------------------

export const MINIO_IMAGE = 'quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z';
export const MC_IMAGE = 'quay.io/minio/mc:RELEASE.2025-04-16T18-13-26Z';

export function minioObjects(o: { namespace: string; runId: string; accessKey: string; secretKey: string; bucket: string; image?: string; mcImage?: string }): { objects: { plural: string; object: KubeObject }[]; endpoint: string } {
  // No run label: the store outlives the run, as the Velero configured with its credentials does (a run's cleanup
  // deletes by the run label). Which run installed it stays on record.
  const labels = { ...MANAGED_BY, [INSTALLED_BY_LABEL]: o.runId, [ROLE_LABEL]: 'minio', app: 'minio' };
  const ns = o.namespace;
  const endpoint = `http://minio.${ns}.svc:9000`;
  return {
    endpoint,
    objects: [
      { plural: 'namespaces', object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } } },
      {
        plural: 'secrets',
        object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'minio-root', namespace: ns, labels }, type: 'Opaque', stringData: { MINIO_ROOT_USER: o.accessKey, MINIO_ROOT_PASSWORD: o.secretKey } },
      },
      {
        plural: 'deployments',
        object: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'minio', namespace: ns, labels },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: 'minio' } },
            template: {
              metadata: { labels },
              spec: {
                containers: [
                  {
                    name: 'minio',
                    image: o.image ?? MINIO_IMAGE,
                    args: ['server', '/data', '--address', ':9000'],
                    envFrom: [{ secretRef: { name: 'minio-root' } }],
                    ports: [{ containerPort: 9000 }],
                    readinessProbe: { httpGet: { path: '/minio/health/ready', port: 9000 }, periodSeconds: 2 },
                    volumeMounts: [{ name: 'data', mountPath: '/data' }],
                  },
                ],
                volumes: [{ name: 'data', emptyDir: {} }],
              },
            },
          },
        },
      },
      {
        plural: 'services',
        object: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'minio', namespace: ns, labels }, spec: { selector: { app: 'minio' }, ports: [{ port: 9000, targetPort: 9000 }] } },
      },
      {
        plural: 'jobs',
        object: {
          apiVersion: 'batch/v1',
          kind: 'Job',
          metadata: { name: 'minio-bucket', namespace: ns, labels },
          spec: {
            backoffLimit: 20,
            activeDeadlineSeconds: 600,
            template: {
              metadata: { labels },
              spec: {
                restartPolicy: 'OnFailure',
                containers: [
                  {
                    name: 'mc',
                    image: o.mcImage ?? MC_IMAGE,
                    command: ['mc', 'mb', '--ignore-existing', `local/${o.bucket}`],
                    // mc reads an alias from MC_HOST_<alias>; the credentials come from the secret.
                    env: [
                      { name: 'MINIO_ROOT_USER', valueFrom: { secretKeyRef: { name: 'minio-root', key: 'MINIO_ROOT_USER' } } },
                      { name: 'MINIO_ROOT_PASSWORD', valueFrom: { secretKeyRef: { name: 'minio-root', key: 'MINIO_ROOT_PASSWORD' } } },
                      { name: 'MC_HOST_local', value: 'http://$(MINIO_ROOT_USER):$(MINIO_ROOT_PASSWORD)@minio:9000' },
                    ],
                  },
                ],
              },
            },
          },
        },
      },
    ],
  };
}

/** The AWS credentials file the Velero AWS plugin reads. */
export function awsCredentialsFile(accessKey: string, secretKey: string): string {
  return `[default]\naws_access_key_id=${accessKey}\naws_secret_access_key=${secretKey}\n`;
}

// --- object storage access from inside the cluster (Velero's repository) -----------------------------------------

// A minimal S3 client (SigV4, path-style) for Velero's bucket, run in a pod with the location's credentials file
// mounted: "list <prefix>" prints every key and size below a prefix; "flip <json>" flips bits in objects
// ([{key, offset, bit}]) by reading and rewriting them; "rm <prefix>" deletes every object below a prefix;
// "mkbucket" creates the bucket unless it exists. Env: S3_ENDPOINT, S3_BUCKET, S3_REGION, AWS_PROFILE.
export const S3_SCRIPT = `
const fs = require('node:fs'), crypto = require('node:crypto');
const [mode, arg] = process.argv.slice(1);
const env = process.env;
const profile = env.AWS_PROFILE || 'default';
const creds = {};
let section = '';
for (const raw of fs.readFileSync(env.AWS_SHARED_CREDENTIALS_FILE || '/creds/cloud', 'utf8').split('\\n')) {
  const line = raw.trim();
  const m = /^\\[(.+)\\]$/.exec(line);
  if (m) { section = m[1].replace(/^profile\\s+/, ''); continue; }
  const kv = /^([a-z_]+)\\s*=\\s*(.*)$/.exec(line);
  if (kv && section === profile) creds[kv[1]] = kv[2].trim();
}
const endpoint = new URL(env.S3_ENDPOINT);
const bucket = env.S3_BUCKET, region = env.S3_REGION || 'us-east-1';
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
const hmac = (k, s) => crypto.createHmac('sha256', k).update(s).digest();
const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
async function s3(method, key, query, body) {
  const path = (endpoint.pathname.replace(/\\/$/, '')) + '/' + bucket + (key ? '/' + key.split('/').map(enc).join('/') : '');
  const amzDate = new Date().toISOString().replace(/[:-]|\\.\\d{3}/g, '');
  const date = amzDate.slice(0, 8);
  const qs = Object.keys(query).sort().map((k) => enc(k) + '=' + enc(query[k])).join('&');
  const payload = sha(body || '');
  const headers = { host: endpoint.host, 'x-amz-content-sha256': payload, 'x-amz-date': amzDate };
  if (creds.aws_session_token) headers['x-amz-security-token'] = creds.aws_session_token;
  const names = Object.keys(headers).sort();
  const canonical = [method, path, qs, names.map((h) => h + ':' + headers[h] + '\\n').join(''), names.join(';'), payload].join('\\n');
  const scope = date + '/' + region + '/s3/aws4_request';
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha(canonical)].join('\\n');
  const key4 = hmac(hmac(hmac(hmac('AWS4' + creds.aws_secret_access_key, date), region), 's3'), 'aws4_request');
  headers.authorization = 'AWS4-HMAC-SHA256 Credential=' + creds.aws_access_key_id + '/' + scope + ', SignedHeaders=' + names.join(';') + ', Signature=' + crypto.createHmac('sha256', key4).update(toSign).digest('hex');
  const res = await fetch(endpoint.origin + path + (qs ? '?' + qs : ''), { method, headers, body });
  const buf = Buffer.from(await res.arrayBuffer());
  if (!res.ok) throw new Error(method + ' ' + (key || bucket) + ': HTTP ' + res.status + ' ' + buf.toString().slice(0, 300));
  return buf;
}
const unxml = (s) => s.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'");
// Every key and size below a prefix, page by page.
async function listAll(prefix) {
  const out = [];
  let token;
  do {
    const q = { 'list-type': '2', prefix };
    if (token) q['continuation-token'] = token;
    const xml = (await s3('GET', '', q)).toString();
    for (const c of xml.split('<Contents>').slice(1)) {
      const key = /<Key>([^<]*)<\\/Key>/.exec(c), size = /<Size>(\\d+)<\\/Size>/.exec(c);
      if (key) out.push({ key: unxml(key[1]), size: size ? Number(size[1]) : 0 });
    }
    token = /<IsTruncated>true<\\/IsTruncated>/.test(xml) ? (/<NextContinuationToken>([^<]*)<\\/NextContinuationToken>/.exec(xml) || [])[1] : undefined;
  } while (token);
  return out;
}
(async () => {
  if (mode === 'list') {
    process.stdout.write('${RESULT_PREFIX}' + JSON.stringify(await listAll(arg)) + '\\n');
  } else if (mode === 'flip') {
    const done = [];
    const flips = JSON.parse(arg);
    const byKey = new Map();
    for (const f of flips) byKey.set(f.key, [...(byKey.get(f.key) || []), f]);
    for (const [key, list] of byKey) {
      const data = await s3('GET', key, {});
      for (const f of list) { const o = f.offset % Math.max(1, data.length); data[o] ^= 1 << f.bit; done.push({ key, offset: o, bit: f.bit }); }
      await s3('PUT', key, {}, data);
    }
    process.stdout.write('${RESULT_PREFIX}' + JSON.stringify(done) + '\\n');
  } else if (mode === 'rm') {
    // Every object below a prefix (one DELETE each: S3-compatible stores differ in their multi-delete support).
    if (!arg || !arg.endsWith('/')) throw new Error('rm needs a prefix ending in /');
    const keys = await listAll(arg);
    for (const o of keys) await s3('DELETE', o.key, {});
    process.stdout.write('${RESULT_PREFIX}' + JSON.stringify({ deleted: keys.length }) + '\\n');
  } else if (mode === 'mkbucket') {
    // HEAD answers 404 for a missing bucket; a PUT that finds it already ours (409) is fine too.
    let exists = true;
    try { await s3('HEAD', '', {}); } catch (e) { if (!/HTTP 404/.test(String(e.message))) throw e; exists = false; }
    if (!exists) {
      try { await s3('PUT', '', {}); } catch (e) { if (!/HTTP 409/.test(String(e.message))) throw e; }
    }
    process.stdout.write('${RESULT_PREFIX}' + JSON.stringify({ bucket, created: !exists }) + '\\n');
  } else throw new Error('mode must be list, flip, rm or mkbucket');
})().catch((e) => { console.error(String(e && e.message || e)); process.exit(1); });
`;

export interface S3Target {
  endpoint: string;
  bucket: string;
  region: string;
  profile?: string;
  /** The Secret (in the pod's namespace) holding an AWS credentials file. */
  secret: { name: string; key: string };
}

/** A pod that lists or flips bits in Velero's bucket with the location's own credentials. */
export function s3Pod(o: { name: string; namespace: string; runId: string; image: string; target: S3Target; args: string[] }): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: o.name, namespace: o.namespace, labels: runLabels(o.runId, 'repository') },
    spec: helperPodSpec({
      restartPolicy: 'Never',
      image: o.image,
      command: ['node', '-e', S3_SCRIPT, ...o.args],
      env: [
        { name: 'S3_ENDPOINT', value: o.target.endpoint },
        { name: 'S3_BUCKET', value: o.target.bucket },
        { name: 'S3_REGION', value: o.target.region },
        { name: 'AWS_PROFILE', value: o.target.profile ?? 'default' },
      ],
      volumeMounts: [{ name: 'creds', mountPath: '/creds', readOnly: true }],
      volumes: [{ name: 'creds', secret: { secretName: o.target.secret.name, items: [{ key: o.target.secret.key, path: 'cloud' }] } }],
    }),
  };
}
