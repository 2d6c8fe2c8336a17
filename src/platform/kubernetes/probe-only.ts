// A Kubernetes backup product pvbench detects but does not drive yet: its probe reports whether the product's API
// is there (and what to install when it is not) and, when it is, that the adapter is missing. Never a silent pass.
import type { ToolConfig } from '../../config/schema.ts';
import type { Probe } from '../../tools/types.ts';
import { UnsupportedTool } from '../../tools/unsupported.ts';
import type { KubeToolContext } from './context.ts';
import { msg } from './context.ts';
import type { ApiRequirement } from './preflight.ts';
import { checkApis, formatProblems } from './preflight.ts';

export abstract class ProbeOnlyTool extends UnsupportedTool {
  protected readonly ctx: KubeToolContext;
  protected abstract readonly product: string;
  protected abstract readonly apis: ApiRequirement[];
  /** What driving it would take: said in the skip reason. */
  protected abstract readonly notDriven: string;

  constructor(config: ToolConfig, ctx: KubeToolContext) {
    super(config, 'pvbench does not drive it yet');
    this.ctx = ctx;
  }

  override async probe(): Promise<Probe> {
    try {
      const problems = await checkApis(this.ctx.kube, this.apis);
      if (problems.length) return { ok: false, reason: `${this.product} is not installed: ${formatProblems(problems)}` };
      return { ok: false, reason: `${this.product} is installed, but pvbench does not drive it yet (${this.notDriven})` };
    } catch (err) {
      return { ok: false, reason: `cannot inspect the cluster for ${this.product}: ${msg(err)}` };
    }
  }

  protected override refusal(): string {
    return `${this.product}: pvbench does not drive it yet (${this.notDriven})`;
  }
}
