/**
 * The CPU floor of a sync: what parsing the very answers the sync read and inserting their rows
 * with plain prepared better-sqlite3 statements costs, with nothing else (no validation, no
 * mapping, no change detection, no HTTP). The simulator records the answers as it serves them
 * (`POST /__sim/record`, every n-th of a long run), so the floor is taken over the sync's own
 * mix of lists, details and histories.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export interface Floor {
  /** Answers measured. */
  pages: number;
  rows: number;
  cpuMs: number;
  /** cpuMs ÷ pages: the floor's CPU per request. */
  msPerRequest: number;
}

type Scalar = string | number | bigint | null;

/** The rows an answer carries: the list items or the one detail object, and its `included` lists. */
function rowsOf(envelope: { data?: unknown; included?: unknown; linked?: unknown }): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const add = (v: unknown) => {
    if (Array.isArray(v)) for (const x of v) add(x);
    else if (v !== null && typeof v === 'object') out.push(v as Record<string, unknown>);
  };
  add(envelope.data);
  for (const side of [envelope.included, envelope.linked]) {
    if (side !== null && typeof side === 'object') for (const v of Object.values(side)) add(v);
  }
  return out;
}

/** A column value as the mirror stores it: scalars as they are, nested values as JSON text. */
function bindable(v: unknown): Scalar {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return JSON.stringify(v);
}

/**
 * Parses each recorded answer and inserts its rows, one transaction an answer, into a table per
 * route whose columns are the top-level keys the route's rows carry (set up beforehand, not
 * timed). Same pragmas as the mirror (WAL, synchronous NORMAL). CPU time of this process only.
 */
export function measureFloor(recording: string): Floor {
  const lines = readFileSync(recording, 'utf8').split('\n').filter((l) => l.length > 0);
  const answers = lines.map((l) => {
    const tab = l.indexOf('\t');
    return { route: l.slice(0, tab), body: l.slice(tab + 1) };
  });
  const dir = mkdtempSync(join(tmpdir(), 'ls-floor-'));
  const db = new Database(join(dir, 'floor.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Set-up, untimed: the columns each route's rows use.
    const columns = new Map<string, Set<string>>();
    for (const a of answers) {
      const cols = columns.get(a.route) ?? new Set<string>();
      columns.set(a.route, cols);
      for (const r of rowsOf(JSON.parse(a.body) as object)) for (const k of Object.keys(r)) cols.add(k);
    }
    const inserts = new Map<string, { keys: string[]; stmt: Database.Statement }>();
    let t = 0;
    for (const [route, cols] of columns) {
      const keys = [...cols];
      if (keys.length === 0) continue;
      const table = `t${t++}`;
      const q = (k: string) => `"${k.replace(/"/g, '""')}"`;
      db.exec(`CREATE TABLE ${table} (${keys.map(q).join(', ')})`);
      inserts.set(route, { keys, stmt: db.prepare(`INSERT INTO ${table} (${keys.map(q).join(', ')}) VALUES (${keys.map(() => '?').join(', ')})`) });
    }
    let rows = 0;
    const insertPage = db.transaction((ins: { keys: string[]; stmt: Database.Statement }, page: Record<string, unknown>[]) => {
      const values: Scalar[] = new Array<Scalar>(ins.keys.length);
      for (const r of page) {
        for (let i = 0; i < ins.keys.length; i++) values[i] = bindable(r[ins.keys[i]!]);
        ins.stmt.run(values);
      }
    });
    const before = process.cpuUsage();
    for (const a of answers) {
      const page = rowsOf(JSON.parse(a.body) as object);
      const ins = inserts.get(a.route);
      if (!ins || page.length === 0) continue;
      insertPage(ins, page);
      rows += page.length;
    }
    const cpu = process.cpuUsage(before);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    return { pages: answers.length, rows, cpuMs, msPerRequest: answers.length > 0 ? cpuMs / answers.length : 0 };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
