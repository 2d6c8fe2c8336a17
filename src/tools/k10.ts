// Kasten K10: detected through its aggregated API (actions.kio.kasten.io, apps.kio.kasten.io) and its config CRDs
// (config.kio.kasten.io). Not driven yet: a run would need a location Profile, BackupActions and RestoreActions
// against RestorePoints; the probe says so instead of pretending.
import type { ApiRequirement } from '../platform/kubernetes/preflight.ts';
import { ProbeOnlyTool } from '../platform/kubernetes/probe-only.ts';

const FIX = 'install Kasten K10 (helm install k10 kasten/k10 --namespace kasten-io --create-namespace; https://docs.kasten.io/latest/install/)';

export class K10Tool extends ProbeOnlyTool {
  protected readonly product = 'Kasten K10';
  protected readonly apis: ApiRequirement[] = [
    { apiVersion: 'actions.kio.kasten.io/v1alpha1', plural: 'backupactions', fix: FIX },
    { apiVersion: 'actions.kio.kasten.io/v1alpha1', plural: 'restoreactions', fix: FIX },
    { apiVersion: 'apps.kio.kasten.io/v1alpha1', plural: 'restorepoints', fix: FIX },
    { apiVersion: 'config.kio.kasten.io/v1alpha1', plural: 'profiles', fix: FIX },
  ];
  protected readonly notDriven = 'the BackupAction/RestoreAction adapter is not written';
}
