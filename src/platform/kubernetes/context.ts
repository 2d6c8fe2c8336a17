// What the Kubernetes tools get from the platform.
import type { KubernetesPlatformConfig } from '../../config/schema.ts';
import type { Kube } from './client.ts';
import type { PodTarget, ResourceSampler } from './resources.ts';

export interface KubeToolContext {
  kube: Kube;
  /** Value of the pvbench.dev/run label on everything this run creates. */
  runId: string;
  config: KubernetesPlatformConfig;
  /** The storage class the workload PVCs use (resolved in prepare) and its provisioner (the CSI driver). */
  storageClass(): { name?: string; provisioner?: string };
  timeouts: { backupMs: number; restoreMs: number; readyMs: number };
  log(msg: string): void;
  /** A sampler of the given pods' CPU and memory (not started). */
  sampler(targets: PodTarget[]): ResourceSampler;
  /** Image of pvbench's helper pods. */
  podImage: string;
  /** PVC size of one workload volume (for restores that create PVCs). */
  volumeSize(): string;
}

export function msg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
