import Database from 'better-sqlite3';
import { openMirror } from '../src/db/connection.js';
import { people } from '../src/db/schema.js';
import { EntityUpserter } from '../src/db/store/sqlite-upsert.js';


/** `n` people rows as the mirror stores them (list item JSON in raw), shared by the SQLite and PostgreSQL upsert benches. */
export function personRows(n: number) {
  return Array.from({ length: n }, (_, i) => {
    const id = (0x5e000000 + i).toString(16).padStart(8, '0') + '0000000000000000'.slice(0, 16 - String(i).length) + String(i);
    const item = {
      id,
      name: `Person ${i}`,
      email: `p${i}@example.com`,
      phone: `+38097${String(i).padStart(7, '0')}`,
      tags: ['VIP "gold"', 'Клиент, опт'],
      accounts: [{ account_id: id, connection_id: '65cf48536d81f496d4f9a673', connection_status: 'OK', from: 'TELEGRAM' }],
      lastMessageTime: new Date(1_600_000_000_000 + i * 1000).toISOString(),
    };
    return {
      id,
      name: item.name,
      email: item.email,
      phone: item.phone,
      tags: JSON.stringify(item.tags),
      lastMessageTime: item.lastMessageTime,
      raw: JSON.stringify(item),
      syncedAt: new Date().toISOString(),
    };
  });
}

/** rows/s of the mirror's upsert vs raw prepared single-row inserts, same rows, same page transactions. */
export function benchUpsert(n = 50_000, page = 100): { mirrorRowsPerSec: number; rawRowsPerSec: number; ratio: number } {
  const data = personRows(n);
  const runRaw = () => {
    const db = new Database(':memory:');
    db.exec(`CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT, email TEXT, phone TEXT, gender TEXT, locale TEXT, profile_image TEXT,
      last_message_time TEXT, created_at TEXT, updated_at TEXT, tags TEXT, raw TEXT NOT NULL, detail_raw TEXT, synced_at TEXT NOT NULL, details_synced_at TEXT)`);
    db.exec('CREATE INDEX a ON people(last_message_time); CREATE INDEX b ON people(email); CREATE INDEX c ON people(phone); CREATE INDEX d ON people(details_synced_at)');
    const ins = db.prepare('INSERT INTO people (id, name, email, phone, tags, last_message_time, raw, synced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const tx = db.transaction((part: typeof data) => {
      for (const r of part) ins.run(r.id, r.name, r.email, r.phone, r.tags, r.lastMessageTime, r.raw, r.syncedAt);
    });
    const t = performance.now();
    for (let i = 0; i < data.length; i += page) tx(data.slice(i, i + page));
    const ms = performance.now() - t;
    db.close();
    return (n / ms) * 1000;
  };
  const runMirror = () => {
    const m = openMirror(':memory:');
    const up = new EntityUpserter(m.db, people, { onChange: { detailsSyncedAt: null } });
    const tx = m.sqlite.transaction((part: typeof data) => up.upsert(part));
    const t = performance.now();
    for (let i = 0; i < data.length; i += page) tx(data.slice(i, i + page));
    const ms = performance.now() - t;
    m.close();
    return (n / ms) * 1000;
  };
  runRaw();
  runMirror(); // warm-up
  const raw: number[] = [];
  const mirror: number[] = [];
  for (let k = 0; k < 5; k++) {
    raw.push(runRaw());
    mirror.push(runMirror());
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const r = median(raw);
  const mm = median(mirror);
  return { mirrorRowsPerSec: Math.round(mm), rawRowsPerSec: Math.round(r), ratio: mm / r };
}
