// Secrets the run handles (repository passwords, tokens, kubeconfigs). Registered once, masked everywhere text
// leaves the process: tool output excerpts, errors, results and reports.
import { plainText } from '../report/format.ts';

const secrets = new Set<string>();
const listeners: ((value: string) => void)[] = [];

export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 4 || secrets.has(value)) return;
  secrets.add(value);
  for (const l of listeners) l(value);
}

/** Called for every secret registered now or later (the action forwards them to core.setSecret). */
export function onSecret(listener: (value: string) => void): void {
  listeners.push(listener);
  for (const s of secrets) listener(s);
}

export function maskSecrets(text: string): string {
  let out = text;
  // Longest first, so a secret containing another is masked whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
  return out;
}

/** The last `max` characters of a tool's output, masked: enough to say why it failed. */
export function excerpt(text: string, max = 600): string {
  // Plain text: tools colour their messages (kopia's ERROR), and no escape sequence belongs in results or reports.
  const masked = maskSecrets(plainText(text).trim());
  return masked.length <= max ? masked : '…' + masked.slice(masked.length - max);
}
