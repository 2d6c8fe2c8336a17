// Shared shapes of the metrics layer: integrity manifests and measured processes.

export interface ManifestEntry {
  /** Path relative to the manifest root, with forward slashes. */
  path: string;
  size: number;
  /** Lowercase hex sha256 of the file's content. */
  sha256: string;
}

export interface Manifest {
  /** Sorted by path. */
  files: ManifestEntry[];
  /** Sum of sizes. */
  bytes: number;
}

/** Resource figures of one process tree over its lifetime. */
export interface ProcessUsage {
  wallMs: number;
  cpuUserMs: number;
  cpuSysMs: number;
  peakRssBytes: number;
  bytesRead: number;
  bytesWritten: number;
  samples: number;
}
