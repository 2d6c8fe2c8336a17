// The tool x scenario x trial matrix. Trials are the outer loop so that slow drift of the machine (caches,
// thermal, neighbours) spreads evenly over tools and scenarios instead of biasing whichever ran last.
import type { ScenarioConfig, Suite, ToolConfig } from '../config/schema.ts';

export interface PlannedTrial {
  tool: ToolConfig;
  toolName: string;
  scenario: ScenarioConfig;
  trial: number;
  /** Unique, filesystem- and DNS-safe. */
  id: string;
}

export function toolName(tool: ToolConfig): string {
  return tool.name ?? tool.type;
}

export function planTrials(suite: Suite, tools: ToolConfig[] = suite.tools): PlannedTrial[] {
  const out: PlannedTrial[] = [];
  for (let trial = 1; trial <= suite.trials; trial++) {
    for (const tool of tools) {
      for (const scenario of suite.scenarios) {
        const name = toolName(tool);
        out.push({ tool, toolName: name, scenario, trial, id: `${name}-${scenario.name}-${trial}`.toLowerCase().replace(/[^a-z0-9-]/g, '-') });
      }
    }
  }
  return out;
}

/** Names must be unique: the report and the baseline match tools and scenarios by name. */
export function duplicateNames(suite: Suite): string[] {
  const problems: string[] = [];
  const seen = (kind: string, names: string[]) => {
    const counts = new Map<string, number>();
    for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
    for (const [n, c] of counts) if (c > 1) problems.push(`${kind} name "${n}" is used ${c} times`);
  };
  seen('tool', suite.tools.map(toolName));
  seen('scenario', suite.scenarios.map((s) => s.name));
  return problems;
}
