// KubeStash (AppsCode): detected through its CRDs (core.kubestash.com, storage.kubestash.com). Not driven yet:
// a run would need a BackupStorage + Repository per trial, a BackupConfiguration whose BackupSession does the
// backup, and a RestoreSession, plus KubeStash's license; the probe says so instead of pretending.
import type { ApiRequirement } from '../platform/kubernetes/preflight.ts';
import { ProbeOnlyTool } from '../platform/kubernetes/probe-only.ts';

const FIX = 'install KubeStash (https://kubestash.com/docs/latest/setup/install/kubestash/; it needs a license from AppsCode)';

export class KubestashTool extends ProbeOnlyTool {
  protected readonly product = 'KubeStash';
  protected readonly apis: ApiRequirement[] = [
    { apiVersion: 'core.kubestash.com/v1alpha1', plural: 'backupconfigurations', fix: FIX },
    { apiVersion: 'core.kubestash.com/v1alpha1', plural: 'backupsessions', fix: FIX },
    { apiVersion: 'core.kubestash.com/v1alpha1', plural: 'restoresessions', fix: FIX },
    { apiVersion: 'storage.kubestash.com/v1alpha1', plural: 'backupstorages', fix: FIX },
    { apiVersion: 'storage.kubestash.com/v1alpha1', plural: 'repositories', fix: FIX },
    { apiVersion: 'storage.kubestash.com/v1alpha1', plural: 'snapshots', fix: FIX },
  ];
  protected readonly notDriven = 'the BackupConfiguration/BackupSession/RestoreSession adapter is not written';
}
