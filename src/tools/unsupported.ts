// A configured tool that cannot run where the suite runs (e.g. Velero on the local platform, or a product pvbench
// only detects). Its probe says why, and the suite lists it as skipped with that reason; if anything else is
// called it refuses with a ToolError.
import type { ToolConfig } from '../config/schema.ts';
import { ToolError } from './types.ts';
import type { BackupTool, Probe } from './types.ts';

export class UnsupportedTool implements BackupTool {
  readonly name: string;
  readonly type: ToolConfig['type'];
  private readonly reason: string;

  constructor(config: ToolConfig, reason: string) {
    this.name = config.name ?? config.type;
    this.type = config.type;
    this.reason = reason;
  }

  async probe(): Promise<Probe> {
    return { ok: false, reason: this.reason };
  }

  /** What a refused call says. */
  protected refusal(): string {
    return this.reason;
  }

  private refuse(): never {
    throw new ToolError(this.name, `${this.name}: ${this.refusal()}`);
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
