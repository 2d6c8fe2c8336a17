// Shared shapes of the metrics layer: integrity manifests and measured processes.

export interface ManifestEntry {
  /** Path relative to the manifest root, with forward slashes. */
  path: string;
  size: number;
  /** Lowercase hex sha256 of the file's content. */
  sha256: string;
}

/** A manifest in memory: small trees, manifests printed by verifier pods, tests. */
export interface ManifestList {
  /** Sorted by path. */
  files: ManifestEntry[];
  /** Sum of sizes. */
  bytes: number;
}

/**
 * A manifest on disk (the local platform): its entries are read back as a stream, so that memory stays flat
 * whatever the number of files. The format is metrics/manifest.ts's (one line per file, sorted by path).
 */
export interface ManifestFile {
  file: string;
  /** Number of files. */
  count: number;
  /** Sum of sizes. */
  bytes: number;
}

/** The sha256 of every regular file of a tree, in path order (code-unit order of the relative paths). */
export type Manifest = ManifestList | ManifestFile;

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
