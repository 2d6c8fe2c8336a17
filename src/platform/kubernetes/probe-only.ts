// A Kubernetes backup product pvbench detects but does not drive yet: its probe reports whether the product's API
// is there (and what to install when it is not) and, when it is, that the adapter is missing. Never a silent pass.
import type { ToolConfig } from '../../config/schema.ts';
import type { BackupTool, Probe } from '../../tools/types.ts';
import { ToolError } from '../../tools/types.ts';
import type { KubeToolContext } from './context.ts';
import { msg } from './context.ts';
import type { ApiRequirement } from './preflight.ts';
import { checkApis, formatProblems } from './preflight.ts';

export abstract class ProbeOnlyTool implements BackupTool {
  readonly name: string;
  readonly type: ToolConfig['type'];
  protected readonly ctx: KubeToolContext;
  protected abstract readonly product: string;
  protected abstract readonly apis: ApiRequirement[];
  /** What driving it would take: said in the skip reason. */
  protected abstract readonly notDriven: string;

  constructor(config: ToolConfig, ctx: KubeToolContext) {
    this.name = config.name ?? config.type;
    this.type = config.type;
    this.ctx = ctx;
  }

  async probe(): Promise<Probe> {
    try {
      const problems = await checkApis(this.ctx.kube, this.apis);
      if (problems.length) return { ok: false, reason: `${this.product} is not installed: ${formatProblems(problems)}` };
      return { ok: false, reason: `${this.product} is installed, but pvbench does not drive it yet (${this.notDriven})` };
    } catch (err) {
      return { ok: false, reason: `cannot inspect the cluster for ${this.product}: ${msg(err)}` };
    }
  }

  private refuse(): never {
    throw new ToolError(this.name, `${this.product}: pvbench does not drive it yet (${this.notDriven})`);
  }

  init = async (): Promise<void> => this.refuse();
  backup = async (): Promise<never> => this.refuse();
  restore = async (): Promise<never> => this.refuse();
  check = async (): Promise<never> => this.refuse();
  recover = async (): Promise<never> => this.refuse();
  snapshots = async (): Promise<never> => this.refuse();
  repositorySize = async (): Promise<never> => this.refuse();
  corruptRepository = async (): Promise<never> => this.refuse();
  cleanup = async (): Promise<void> => undefined;
}
