import type { DoctorReport } from './run.js';

const WRAP = 60;

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  out.push(line);
  return out;
}

/** The readable table: check | result | what the sync will do about it. */
export function formatTable(r: DoctorReport): string {
  const rows = r.checks.map((c) => [`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}`, c.detail, c.action]);
  const head = ['check', 'result', 'what the sync will do'];
  const w0 = Math.max(head[0]!.length, ...rows.map((x) => x[0]!.length));
  const lines: string[] = [];
  const emit = (cells: string[]) => {
    const a = wrap(cells[1]!, WRAP);
    const b = wrap(cells[2]!, WRAP);
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      lines.push(`${(i === 0 ? cells[0]! : '').padEnd(w0)} | ${(a[i] ?? '').padEnd(WRAP)} | ${b[i] ?? ''}`.trimEnd());
    }
  };
  emit(head);
  lines.push(`${'-'.repeat(w0)}-+-${'-'.repeat(WRAP)}-+-${'-'.repeat(WRAP)}`);
  for (const row of rows) emit(row);
  const bad = r.checks.filter((c) => !c.ok);
  lines.push('');
  lines.push(
    bad.length === 0
      ? `safe to sync (date filter: ${r.dateFilter}); ${r.requests} requests; findings stored in api_findings`
      : `NOT safe to sync: ${bad.map((c) => c.name).join(', ')}; ${r.requests} requests`,
  );
  return `${lines.join('\n')}\n`;
}

/** `--json`: one object. */
export function formatJson(r: DoctorReport): string {
  return `${JSON.stringify({
    ok: r.ok,
    checks: r.checks.map((c) => ({ name: c.name, ok: c.ok, detail: c.detail, action: c.action })),
    dateFilter: r.dateFilter,
    requests: r.requests,
    endpoints: r.endpoints,
    findings: r.findings,
  })}\n`;
}
