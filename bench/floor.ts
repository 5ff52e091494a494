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

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
/** A list of objects inside a row (tags, custom fields, a tunnel's blocks): rows of their own in the mirror. */
const isRowList = (v: unknown): v is Record<string, unknown>[] => Array.isArray(v) && v.length > 0 && v.every(isObject);

interface Table {
  columns: Set<string>;
  children: Map<string, Table>;
  keys?: string[];
  stmt?: Database.Statement;
  values?: Scalar[];
}

const newTable = (): Table => ({ columns: new Set(), children: new Map() });

function learn(t: Table, rows: Record<string, unknown>[]): void {
  for (const r of rows) {
    for (const [k, v] of Object.entries(r)) {
      if (isRowList(v)) {
        const child = t.children.get(k) ?? newTable();
        t.children.set(k, child);
        learn(child, v);
      } else t.columns.add(k);
    }
  }
}

function create(db: Database.Database, t: Table, name: string): void {
  const q = (k: string) => `"${k.replace(/"/g, '""')}"`;
  // Child rows carry their parent's id, as the mirror's child tables do.
  const keys = [...t.columns];
  const cols = ['_parent', ...keys];
  db.exec(`CREATE TABLE ${name} (${cols.map(q).join(', ')})`);
  t.keys = keys;
  t.values = new Array<Scalar>(cols.length);
  t.stmt = db.prepare(`INSERT INTO ${name} (${cols.map(q).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
  let i = 0;
  for (const child of t.children.values()) create(db, child, `${name}_${i++}`);
}

/** Inserts `rows` and their nested lists; how many rows that was. */
function insert(t: Table, rows: Record<string, unknown>[], parent: Scalar): number {
  const keys = t.keys!;
  const values = t.values!;
  let n = rows.length;
  for (const r of rows) {
    values[0] = parent;
    for (let i = 0; i < keys.length; i++) values[i + 1] = bindable(r[keys[i]!]);
    t.stmt!.run(values);
    if (t.children.size === 0) continue;
    const id = bindable(r.id);
    for (const [k, child] of t.children) {
      const v = r[k];
      if (isRowList(v)) n += insert(child, v, id);
    }
  }
  return n;
}

export interface RecordedAnswer {
  /** The simulator's route key, `GET /api/v2/people/:id`. */
  route: string;
  /** The request target as the simulator received it: path and query string. */
  target: string;
  body: string;
}

/** The simulator's recording (`POST /__sim/record`): `<route key>\t<target>\t<body>` a line. */
export function readRecording(recording: string): RecordedAnswer[] {
  const lines = readFileSync(recording, 'utf8').split('\n').filter((l) => l.length > 0);
  return lines.map((l) => {
    const a = l.indexOf('\t');
    const b = l.indexOf('\t', a + 1);
    if (a < 0 || b < 0) throw new Error('a recording line without its three tab-separated fields (an older simulator?)');
    return { route: l.slice(0, a), target: l.slice(a + 1, b), body: l.slice(b + 1) };
  });
}

/**
 * Parses each recorded answer and inserts its rows, one transaction an answer: a table per
 * route whose columns are the top-level keys its rows carry, and a child table per nested list
 * of objects (set up beforehand, not timed). Same pragmas as the mirror (WAL, synchronous
 * NORMAL). CPU time of this process only.
 */
export function measureFloor(recording: string): Floor {
  const answers = readRecording(recording);
  const dir = mkdtempSync(join(tmpdir(), 'ls-floor-'));
  const db = new Database(join(dir, 'floor.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const tables = new Map<string, Table>();
    for (const a of answers) {
      const t = tables.get(a.route) ?? newTable();
      tables.set(a.route, t);
      learn(t, rowsOf(JSON.parse(a.body) as object));
    }
    let n = 0;
    for (const t of tables.values()) create(db, t, `t${n++}`);
    const insertPage = db.transaction((t: Table, page: Record<string, unknown>[]) => insert(t, page, null));
    let rows = 0;
    const before = process.cpuUsage();
    for (const a of answers) {
      const page = rowsOf(JSON.parse(a.body) as object);
      if (page.length > 0) rows += insertPage(tables.get(a.route)!, page);
    }
    const cpu = process.cpuUsage(before);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    return { pages: answers.length, rows, cpuMs, msPerRequest: answers.length > 0 ? cpuMs / answers.length : 0 };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
