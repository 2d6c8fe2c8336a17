// The suite schema: the one source for validation, defaults, TypeScript types and the JSON Schema for editors.
import { z } from 'zod';
import { METRIC_NAMES } from '../suite/results.ts';
import { presetInfo, WORKLOAD_PRESET_NAMES } from '../workloads/presets.ts';

const name = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'use lowercase letters, digits and dashes (a DNS label), e.g. "crash-backup"');

export const LOCAL_TOOL_TYPES = ['restic', 'kopia', 'copy'] as const;
export const KUBERNETES_TOOL_TYPES = ['velero-fs', 'velero-csi', 'csi-snapshot', 'kubestash', 'k10'] as const;
export const TOOL_TYPES = [...LOCAL_TOOL_TYPES, ...KUBERNETES_TOOL_TYPES] as const;
/** restic's options.keyDerivation: pvbench's fixed scrypt parameters (the default), or restic's own calibration. */
export const RESTIC_KEY_DERIVATION = ['fixed', 'calibrated'] as const;
/** restic's options.chunker: pvbench's fixed chunker polynomial (the default), or the one `restic init` draws. */
export const RESTIC_CHUNKER = ['fixed', 'random'] as const;
/** kopia's options.keyDerivation: its pbkdf2-sha256-600000 (pvbench's default, cheaper) or scrypt-65536-8-1 (kopia's). */
export const KOPIA_KEY_DERIVATION = ['pbkdf2', 'scrypt'] as const;

export const toolSchema = z
  .object({
    name: name.describe('Name shown in the report; defaults to the type.').optional(),
    type: z.enum(TOOL_TYPES).describe('Which backup tool this is.'),
    options: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .default({})
      .describe(
        'Tool-specific options, e.g. { compression: "auto" } for restic, { snapshotClass: "csi-hostpath-snapclass" }. restic and kopia: binary (the program to run: a command name looked up on PATH, or a path, relative to the current directory; the tool\'s name by default), e.g. two variants of one tool with binary: /usr/bin/restic and binary: .tools/bin/restic for an A/B (see ab). restic: compression, repositoryVersion, chunker ("fixed", the default: every repository gets pvbench\'s own chunker polynomial, so the same workload is cut into the same chunks in every run and what backups add and the repository size compare between runs; "random": the polynomial `restic init` draws, different in every run), keyDerivation ("fixed", the default: the repository key is rewritten with fixed, cheap scrypt parameters N=16384,r=8,p=1 so that key derivation does not dominate or vary the figures; "calibrated": as `restic init` calibrates it, about 0.5 s per command). kopia: keyDerivation ("pbkdf2", the default: the repository is created with kopia\'s pbkdf2-sha256-600000; "scrypt": kopia\'s own default scrypt-65536-8-1, about 0.2 s more per command here).',
      ),
    optional: z
      .boolean()
      .optional()
      .describe('A tool that may be missing: skipped when it cannot run, without making the run incomplete. Off: a configured tool that cannot run leaves the run incomplete (exit 1, not kept as a baseline).'),
  })
  .strict();

const crashFault = z
  .object({
    kind: z.literal('crash'),
    phase: z.enum(['backup', 'restore']).default('backup').describe('Which phase the container crash hits.'),
    at: z
      .number()
      .gt(0)
      .lt(1)
      .default(0.3)
      .describe('Kill when this fraction of the volume bytes has been read (local) or of the phase time has passed.'),
    retries: z.number().int().min(1).max(10).default(3).describe('Controller-style retries after the crash.'),
  })
  .strict();

const outageFault = z
  .object({
    kind: z.literal('outage'),
    writesPerSecond: z.number().int().min(1).max(5000).default(200).describe('Rate of acknowledged writes the workload makes.'),
    afterMs: z
      .number()
      .int()
      .min(50)
      .max(600000)
      .default(600)
      .describe('How long into the second backup the outage strikes at the latest; it strikes earlier once half the volume has been read, so that fast tools are still caught mid-backup.'),
    scope: z
      .enum(['workload', 'node'])
      .default('workload')
      .describe(
        'What goes down: the workload writer and the in-flight backup (processes locally, pods on Kubernetes), or, on a kind cluster only, the node container hosting the volumes (killed, then started again; the wait for the node to be Ready counts in the RTO).',
      ),
  })
  .strict();

const corruptVolumeFault = z
  .object({
    kind: z.literal('corrupt-volume'),
    bitFlips: z.number().int().min(0).max(1000).default(3).describe('Files that get one flipped bit each.'),
    truncate: z.number().int().min(0).max(1000).default(1).describe('Files truncated to half their size.'),
    delete: z.number().int().min(0).max(1000).default(1).describe('Files deleted.'),
  })
  .strict();

const corruptRepositoryFault = z
  .object({
    kind: z.literal('corrupt-repository'),
    bitFlips: z.number().int().min(1).max(1000).default(4).describe('Bits flipped in the repository data files.'),
  })
  .strict();

// The I/O faults: struck at an exact byte by faultfs (scripts/faultfs/), a FUSE layer pvbench mounts over the
// backup's source or its repository for the one backup they hit. Local platform, copy, restic and kopia.
const ioTarget = z
  .enum(['source', 'repository'])
  .default('source')
  .describe('Where the fault is: the reads of the volumes the backup takes (source), or the writes into the tool\'s repository.');
const byteShare = (def: number) =>
  z
    .number()
    .min(0)
    .lt(1)
    .default(def)
    .describe('The point, as a share of the volume bytes, read from the source or written into the repository, after which the fault starts.');

const ioErrorFault = z
  .object({
    kind: z.literal('io-error'),
    target: ioTarget,
    at: byteShare(0.3),
    count: z.number().int().min(0).max(1_000_000).default(0).describe('I/O operations that fail with EIO once the point is reached; 0: every one from then on (a dead disk).'),
  })
  .strict();

const diskFullFault = z
  .object({
    kind: z.literal('disk-full'),
    at: byteShare(0.2).describe('The repository\'s free space, as a share of the volume bytes: writes into the repository past it fail with ENOSPC.'),
  })
  .strict();

const slowDiskFault = z
  .object({
    kind: z.literal('slow-disk'),
    target: ioTarget,
    delayMs: z.number().gt(0).max(1000).default(2).describe('Latency added to every read (source) or write (repository) the backup makes.'),
  })
  .strict();

const noFault = z.object({ kind: z.literal('none') }).strict();

/** Faults that need faultfs: the local platform, and a local tool whose files pvbench can mount over. */
export const FAULTFS_FAULTS = ['io-error', 'disk-full', 'slow-disk'] as const;
export const FAULTFS_TOOLS = ['copy', 'restic', 'kopia'] as const;

export const faultSchema = z.discriminatedUnion('kind', [noFault, crashFault, outageFault, corruptVolumeFault, corruptRepositoryFault, ioErrorFault, diskFullFault, slowDiskFault]);

export const scenarioSchema = z
  .object({
    name,
    fault: faultSchema.default({ kind: 'none' }),
    incremental: z.boolean().default(true).describe('Churn the workload and take an incremental backup before restoring.'),
  })
  .strict();

/**
 * Files a seeded workload may have: a trial of 2,000,000 files (the velero-fsb-100b preset at full size, copy tool,
 * local platform) has been run to the end with pvbench's own memory flat (bench/scaling.ts --preset); past that it
 * has not been measured.
 */
export const MAX_WORKLOAD_FILES = 2_000_000;

export const workloadSchema = z
  .object({
    kind: z.literal('mesh-proxy').default('mesh-proxy'),
    proxies: z.number().int().min(1).max(500).default(4).describe('Proxies (pods), each with its own volume. Files in all: proxies × (statsSnapshots + 2), at most 2,000,000.'),
    accessLogLines: z.number().int().min(0).max(10_000_000).default(10000).describe('Access log lines per proxy.'),
    statsSnapshots: z.number().int().min(0).max(10000).default(6).describe('Prometheus stats snapshots per proxy.'),
    clusters: z.number().int().min(1).max(10000).default(40).describe('Upstream clusters in each config dump (sets its size).'),
    statsBytes: z
      .number()
      .int()
      .min(0)
      .max(64 * 1024 * 1024)
      .optional()
      .describe('Bytes of every stats snapshot (the Prometheus text cut to this length, 0 for empty files); as generated (about 2.5 KB with 40 clusters) when omitted.'),
    preset: z
      .enum(WORKLOAD_PRESET_NAMES)
      .optional()
      .describe(
        "A named workload mirroring a case of Velero's file-system-backup performance guide: velero-fsb-1mb (10,625 files of 1 MB), velero-fsb-100b (2,000,000 files of 100 bytes), velero-fsb-empty (2,000,000 empty files); a -ci name is the same at the scale for CI (1% of the files for velero-fsb-1mb, 0.5% for the others). It sets proxies, statsSnapshots, statsBytes, accessLogLines and clusters.",
      ),
    scale: z.number().gt(0).max(1).optional().describe('A share of the preset\'s files (0.01 = 1%), for a smaller run of the same case; only with preset.'),
    churn: z
      .object({
        appendLines: z.number().int().min(0).default(1000).describe('Access log lines appended per proxy.'),
        rewriteConfig: z.boolean().default(true).describe('Rewrite each config dump (a new version_info).'),
        newStats: z.number().int().min(0).default(1).describe('New stats snapshots per proxy.'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const localPlatformSchema = z
  .object({
    kind: z.literal('local'),
    workdir: z.string().optional().describe('Where the run makes its own pvbench-* directory for volumes and repositories; the system temporary directory by default.'),
    keep: z.boolean().default(false).describe('Keep the work directory after the run.'),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600)
      .default(3600)
      .describe('Upper bound of any one tool command (a backup, a restore, a check): the command is killed after it and the trial is an error.'),
    cache: z
      .enum(['warm', 'cold'])
      .default('warm')
      .describe('The page cache before each measured backup and restore: warm (dirty pages written back, the cache kept) or cold (also dropped, as root: every read comes from the disk).'),
  })
  .strict();

export const kubernetesPlatformSchema = z
  .object({
    kind: z.literal('kubernetes'),
    cluster: z
      .object({
        mode: z.enum(['kind', 'existing']).describe('Create a kind cluster, or use an existing one.'),
        name: z.string().default('pvbench').describe('kind cluster name.'),
        kubeconfig: z.string().optional().describe('Path to a kubeconfig, or its content; $KUBECONFIG by default.'),
        context: z.string().optional(),
        keep: z.boolean().default(false).describe('Keep a kind cluster after the run.'),
      })
      .strict(),
    namespace: z.string().default('pvbench').describe('Namespace for the workload (created when missing).'),
    storageClass: z.string().optional().describe('Storage class of the workload PVCs; the default class when omitted.'),
    snapshotClass: z.string().optional().describe('VolumeSnapshotClass for CSI snapshots.'),
    images: z
      .object({
        pod: z.string().min(1).default('node:24-slim').describe("Image of pvbench's own pods (Node.js 24): seeding, churn, manifests, the outage writer, corruption, object-store access."),
        velero: z.string().min(1).optional().describe('Velero server and node-agent image that install.velero installs; velero/velero:<pinned version> by default.'),
        veleroAwsPlugin: z.string().min(1).optional().describe('Velero AWS plugin image that install.velero installs; velero/velero-plugin-for-aws:<pinned version> by default.'),
        minio: z.string().min(1).optional().describe('MinIO server image that install.minio installs.'),
        mc: z.string().min(1).optional().describe('MinIO client image that creates the bucket for install.minio.'),
      })
      .strict()
      .prefault({})
      .describe('Images pvbench runs or installs, by role: for air-gapped clusters, a private registry, or images built on the node.'),
    install: z
      .object({
        velero: z.boolean().default(false),
        minio: z.boolean().default(false),
        csiHostpath: z.boolean().default(false),
        objectStore: z
          .object({
            url: z.string().url().describe('S3 endpoint as seen from inside the cluster, e.g. http://versitygw.pvbench-s3.svc:9000.'),
            bucket: z.string().min(1).describe('A bucket pvbench may use for its own Velero locations.'),
            region: z.string().default('us-east-1'),
            credentialsSecret: z.string().regex(/^[a-z0-9-]+\/[a-z0-9.-]+$/, 'namespace/name').describe('namespace/name of a Secret holding an AWS credentials file.'),
            credentialsKey: z.string().default('cloud').describe('Key of that Secret holding the credentials file.'),
          })
          .strict()
          .optional()
          .describe('An S3 object store that already runs, for the Velero that install.velero installs (instead of install.minio).'),
      })
      .strict()
      .prefault({}),
    timeouts: z
      .object({
        backupSeconds: z.number().int().min(10).default(900),
        restoreSeconds: z.number().int().min(10).default(900),
        readySeconds: z.number().int().min(10).default(300),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const platformSchema = z.discriminatedUnion('kind', [localPlatformSchema, kubernetesPlatformSchema]);

export const compareSchema = z
  .object({
    baseline: z
      .object({
        source: z
          .enum(['history', 'file', 'none'])
          .default('history')
          .describe('history: earlier runs kept under output.dir/history; file: a results JSON at `path`; none.'),
        path: z.string().optional().describe('Results file (or directory of them) when source is "file".'),
        maxRuns: z.number().int().min(1).max(100).default(5).describe('How many earlier runs form the baseline.'),
      })
      .strict()
      .prefault({}),
    threshold: z.number().min(0).max(10).default(0.2).describe('Relative change of the median that counts (0.2 = 20%).'),
    deterministicThreshold: z
      .number()
      .min(0)
      .max(10)
      .default(0.02)
      .describe('Relative change that counts for the metrics a seeded workload hardly varies: backup bytes written and repository size (0.02 = 2%). When every trial on both sides has the same value, a change beyond it is a regression without a p-value.'),
    noiseFloor: z
      .object({
        ms: z.number().min(0).default(50).describe('Changes of time medians smaller than this many ms never count.'),
        bytes: z.number().min(0).default(1048576).describe('Changes of byte medians smaller than this never count (memory).'),
        deterministicBytes: z.number().min(0).default(4096).describe('Changes of bytes written and repository size smaller than this never count.'),
        writes: z.number().min(0).default(10).describe('Changes of the median writes lost smaller than this never count (10 writes: 50 ms of the outage writer at its default 200 writes/s).'),
      })
      .strict()
      .prefault({})
      .describe('Absolute noise floor per unit: very short operations vary by more than any relative threshold.'),
    thresholds: z
      .object(Object.fromEntries(METRIC_NAMES.map((m) => [m, z.number().min(0).max(10).optional()])))
      .strict()
      .prefault({})
      .describe('A threshold of its own for any metric, e.g. { rtoMs: 0.3, rpoMs: 0.5, writesLost: 0.5 }: it replaces threshold (or deterministicThreshold) for that metric.'),
    noiseFactor: z
      .number()
      .min(0)
      .max(10)
      .default(2)
      .describe('Noise measured, not assumed: when the baseline pools 3 runs or more, a metric\'s threshold is raised to noiseFactor × the coefficient of variation of those runs\' medians if that is larger (runs that differ by 15% from one another make a 20% threshold flag noise; with 2, it becomes 30%). 0: thresholds as configured.'),
    confidence: z.number().gt(0.5).lt(1).default(0.95).describe('Confidence level of the bootstrap interval and the rank test.'),
    metrics: z
      .array(z.enum(METRIC_NAMES as [string, ...string[]]))
      .default(['backup.wallMs', 'incremental.wallMs', 'restore.wallMs', 'backup.cpuMs', 'backup.peakRssBytes', 'repository.sizeBytes', 'rtoMs', 'rpoMs', 'writesLost'])
      .describe('Metrics compared against the baseline.'),
    failOnRegression: z.boolean().default(true),
    failOnNotInjected: z
      .boolean()
      .default(false)
      .describe('Fail the run when a fault scenario\'s fault did not land in some trial (e.g. the backup of a tiny workload finished before the crash point). Off: such trials are shown as "not injected" and left out of the figures.'),
  })
  .strict();

export const abSchema = z
  .object({
    a: name.describe('The reference variant: the name of a tool in tools (its name key, or its type when it has none).'),
    b: name.describe('The variant compared with it: another tool in tools, e.g. the same tool with another binary or other options.'),
    threshold: z
      .number()
      .min(0)
      .max(10)
      .default(0.05)
      .describe('Relative difference of the medians (b against a) that counts (0.05 = 5%). Interleaved in one run, the two variants share the machine\'s drift, so a smaller change shows than against a baseline of earlier runs. Bytes written and repository size use compare.deterministicThreshold when that is smaller.'),
    failOnRegression: z.boolean().default(false).describe('Fail the run when b is worse than a on a compared metric. Off: the A/B table reports it without changing the verdict.'),
  })
  .strict()
  .describe('In-run A/B: two tools of this suite run interleaved (a then b in odd trials, b then a in even ones, scenario by scenario) and are compared with each other with the same statistics as the baseline (compare.metrics, compare.confidence, the noise floor). Two tools with the same settings under two names make an A/A run: the noise of this machine.');

const suiteObject = z
  .object({
    $schema: z.string().optional(),
    name: name.default('default'),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(42).describe('Seed of the deterministic workload generator.'),
    trials: z.number().int().min(1).max(100).default(3).describe('Repetitions of every tool x scenario.'),
    platform: platformSchema.prefault({ kind: 'local' }),
    workload: workloadSchema.prefault({}),
    tools: z
      .array(toolSchema)
      .min(1)
      .default(() => z.array(toolSchema).parse([{ type: 'copy' }, { type: 'restic' }, { type: 'kopia', optional: true }])),
    scenarios: z
      .array(scenarioSchema)
      .min(1)
      .default(() =>
        z.array(scenarioSchema).parse([
          { name: 'no-fault' },
          { name: 'crash-backup', fault: { kind: 'crash' }, incremental: false },
          { name: 'outage', fault: { kind: 'outage' }, incremental: false },
          { name: 'corrupt-volume', fault: { kind: 'corrupt-volume' }, incremental: false },
          { name: 'corrupt-repository', fault: { kind: 'corrupt-repository' }, incremental: false },
        ]),
      ),
    compare: compareSchema.prefault({}),
    ab: abSchema.optional(),
    report: z
      .object({
        title: z.string().optional().describe('Heading of the report; "pvbench: <suite name>" by default.'),
        template: z.string().optional().describe('A Handlebars template that replaces templates/report.md.hbs.'),
        maxChars: z.number().int().min(1000).max(65536).default(65000).describe('Report size limit (a PR comment holds 65,536).'),
      })
      .strict()
      .prefault({}),
    output: z
      .object({
        dir: z.string().default('.pvbench').describe('Where results.json, report.md and history/ go.'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const suiteSchema = suiteObject.superRefine((suite, ctx) => {
  for (const p of crossFieldProblems(suite)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message, params: { fix: p.fix } });
});

/** Rules that span sections of a suite (checked when a file is loaded, and again after command-line overrides). */
export function crossFieldProblems(suite: Pick<z.output<typeof suiteObject>, 'platform' | 'scenarios' | 'tools' | 'workload'> & { ab?: z.output<typeof abSchema> }): { path: (string | number)[]; message: string; fix: string }[] {
  const problems: { path: (string | number)[]; message: string; fix: string }[] = [];
  const w = suite.workload;
  const files = w.proxies * (w.statsSnapshots + 2);
  // Every preset fits at full size (at most 2,000,000 files): only a shape given by hand can exceed the limit.
  if (files > MAX_WORKLOAD_FILES) {
    const n = (x: number) => x.toLocaleString('en-US');
    problems.push({
      path: ['workload', 'statsSnapshots'],
      message: `the workload makes ${n(files)} files (${w.proxies} proxies × (${w.statsSnapshots} stats snapshots + a config dump and an access log)); a trial handles at most ${n(MAX_WORKLOAD_FILES)}`,
      fix: `lower workload.proxies or workload.statsSnapshots so that proxies × (statsSnapshots + 2) is at most ${n(MAX_WORKLOAD_FILES)}`,
    });
  }
  // Tool options with a fixed set of values; the first one is the default.
  const choices: Partial<Record<string, Record<string, readonly string[]>>> = {
    restic: { chunker: RESTIC_CHUNKER, keyDerivation: RESTIC_KEY_DERIVATION },
    kopia: { keyDerivation: KOPIA_KEY_DERIVATION },
  };
  suite.tools.forEach((tool, i) => {
    for (const [key, allowed] of Object.entries(choices[tool.type] ?? {})) {
      const v = tool.options[key];
      if (v === undefined || (allowed as readonly unknown[]).includes(v)) continue;
      problems.push({
        path: ['tools', i, 'options', key],
        message: `${tool.type}'s ${key} is ${JSON.stringify(v)}`,
        fix: `use ${allowed.map((x) => `"${x}"`).join(' or ')} ("${allowed[0]}" is the default)`,
      });
    }
  });
  suite.tools.forEach((tool, i) => {
    const bin = tool.options.binary;
    const runsProgram = tool.type === 'restic' || tool.type === 'kopia';
    if (bin !== undefined && (typeof bin !== 'string' || bin.trim() === '' || !runsProgram)) {
      problems.push({
        path: ['tools', i, 'options', 'binary'],
        message: runsProgram ? `binary is ${JSON.stringify(bin)}, not a command or a path` : `${tool.type} has no binary option (only restic and kopia run a program pvbench starts)`,
        fix: runsProgram ? `give the program to run, e.g. binary: /usr/bin/${tool.type}, or leave binary out for the ${tool.type} on PATH` : 'remove options.binary',
      });
    }
  });
  if (suite.ab) {
    const names = suite.tools.map((t) => t.name ?? t.type);
    for (const side of ['a', 'b'] as const) {
      if (!names.includes(suite.ab[side])) {
        problems.push({
          path: ['ab', side],
          message: `ab.${side} is "${suite.ab[side]}", which is not a tool of this suite (its tools: ${names.join(', ')})`,
          fix: `name one of ${names.map((n) => `"${n}"`).join(', ')}, or add a tool with name: ${suite.ab[side]}`,
        });
      }
    }
    if (suite.ab.a === suite.ab.b) {
      problems.push({ path: ['ab', 'b'], message: `ab.a and ab.b both name "${suite.ab.a}": a tool compared with itself measures nothing`, fix: 'name two tools; for an A/A run (the noise of this machine) add the same tool twice under two names' });
    }
  }
  const onKind = suite.platform.kind === 'kubernetes' && suite.platform.cluster.mode === 'kind';
  if (suite.platform.kind === 'kubernetes') {
    const inst = suite.platform.install;
    if (inst.velero && !inst.minio && !inst.objectStore) {
      problems.push({
        path: ['platform', 'install', 'velero'],
        message: 'install.velero needs an object store for Velero to write to',
        fix: 'set platform.install.minio: true, or name a running S3 store in platform.install.objectStore (or install Velero yourself and set install.velero: false)',
      });
    }
    if (inst.minio && inst.objectStore) {
      problems.push({
        path: ['platform', 'install', 'objectStore'],
        message: 'install.minio and install.objectStore both name an object store for Velero',
        fix: 'keep one of them',
      });
    }
  }
  suite.scenarios.forEach((sc, i) => {
    if (sc.fault.kind === 'outage' && sc.fault.scope === 'node' && !onKind) {
      problems.push({
        path: ['scenarios', i, 'fault', 'scope'],
        message: `a node outage needs a kind cluster, and this suite runs on ${suite.platform.kind === 'local' ? 'the local platform' : 'an existing cluster'}`,
        fix: 'use scope: workload, or run on platform.kind: kubernetes with cluster.mode: kind',
      });
    }
    const k = sc.fault.kind;
    if ((FAULTFS_FAULTS as readonly string[]).includes(k)) {
      if (suite.platform.kind !== 'local') {
        problems.push({
          path: ['scenarios', i, 'fault', 'kind'],
          message: `the ${k} fault is injected by faultfs, a FUSE layer over local directories, and this suite runs on Kubernetes`,
          fix: `run the ${k} scenario with platform.kind: local, or remove it from this suite`,
        });
      }
      suite.tools.forEach((tool, t) => {
        if (suite.platform.kind === 'local' && !(FAULTFS_TOOLS as readonly string[]).includes(tool.type)) {
          problems.push({
            path: ['tools', t, 'type'],
            message: `the ${k} fault (scenario "${sc.name}") works with ${FAULTFS_TOOLS.join(', ')}, not ${tool.type}`,
            fix: `drop the ${k} scenario or use a tool of type ${FAULTFS_TOOLS.join(', ')}`,
          });
        }
      });
    }
  });
  return problems;
}

export type Suite = z.output<typeof suiteSchema>;
export type SuiteInput = z.input<typeof suiteSchema>;
export type ToolConfig = z.output<typeof toolSchema>;
export type ScenarioConfig = z.output<typeof scenarioSchema>;
export type FaultConfig = z.output<typeof faultSchema>;
export type WorkloadConfig = z.output<typeof workloadSchema>;
export type PlatformConfig = z.output<typeof platformSchema>;
export type KubernetesPlatformConfig = z.output<typeof kubernetesPlatformSchema>;
export type CompareConfig = z.output<typeof compareSchema>;
export type AbConfig = z.output<typeof abSchema>;

/** The JSON Schema for editors (yaml-language-server, VS Code), emitted from the same source. */
export function suiteJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(suiteSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://pvbench.dev/schema/suite.json', title: 'pvbench suite' };
}
