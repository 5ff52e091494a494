/**
 * Secrets registered here are replaced in every log line and error message, whatever field they
 * end up in. Kept apart from log.ts so the CLI's error path does not load pino.
 */
const secrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

export function hasSecrets(): boolean {
  return secrets.size > 0;
}

export function scrub(text: string): string {
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('[REDACTED]');
  }
  return out;
}
