// The tool x scenario x trial matrix. Trials are the outer loop so that slow drift of the machine (caches,
// thermal, neighbours) spreads evenly over tools and scenarios instead of biasing whichever ran last. With an
// in-run A/B (suite.ab) each scenario runs on every tool before the next scenario, so the two variants' trials
// stand side by side, and their order alternates from trial to trial (a b, b a, a b, ...) so that neither always
// runs first: on a machine that drifts the other way the same amount, the two sides still see the same machine.
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

export function planTrials(suite: Pick<Suite, 'trials' | 'scenarios' | 'tools' | 'ab'>, tools: ToolConfig[] = suite.tools): PlannedTrial[] {
  const out: PlannedTrial[] = [];
  const add = (tool: ToolConfig, scenario: ScenarioConfig, trial: number) => {
    const name = toolName(tool);
    out.push({ tool, toolName: name, scenario, trial, id: `${name}-${scenario.name}-${trial}`.toLowerCase().replace(/[^a-z0-9-]/g, '-') });
  };
  for (let trial = 1; trial <= suite.trials; trial++) {
    if (!suite.ab) {
      for (const tool of tools) for (const scenario of suite.scenarios) add(tool, scenario, trial);
      continue;
    }
    const order = abOrder(tools, suite.ab, trial);
    for (const scenario of suite.scenarios) for (const tool of order) add(tool, scenario, trial);
  }
  return out;
}

/** The tools of one trial of an A/B suite: as listed, with a and b next to each other, b first in even trials. */
export function abOrder(tools: readonly ToolConfig[], ab: { a: string; b: string }, trial: number): ToolConfig[] {
  const a = tools.find((t) => toolName(t) === ab.a);
  const b = tools.find((t) => toolName(t) === ab.b);
  if (!a || !b) return [...tools];
  const pair = trial % 2 === 1 ? [a, b] : [b, a];
  const out: ToolConfig[] = [];
  for (const t of tools) {
    if (t === b) continue;
    if (t === a) out.push(...pair);
    else out.push(t);
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
