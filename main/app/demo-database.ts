// The demo database opened when no file is given: realistic small tables (some already CRRs),
// a table the engine refuses (foreign key), one of 100k rows, and `todos` with the values typed
// editors are for (BOOLEAN, DATE, unix TIMESTAMP, JSON, multi-line text). Deterministic, built in SQL.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { installCrr } from '../crr/index.ts';

const FIRST = ['Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Margaret', 'Dennis', 'Radia', 'Tim'];
const LAST = ['Lovelace', 'Turing', 'Hopper', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Hamilton', 'Ritchie', 'Perlman', 'Lee'];
const CITIES = ['Lyon', 'Porto', 'Oslo', 'Austin', 'Kyoto', 'Lagos', 'Quito', 'Perth', 'Graz', 'Pune'];
const PRODUCTS = ['Desk lamp', 'Notebook', 'Fountain pen', 'Monitor arm', 'Keyboard', 'Mug', 'Chair mat', 'Headset', 'Cable kit', 'Stand'];

const list = (xs: string[]) => `json('${JSON.stringify(xs).replace(/'/g, "''")}')`;

export function demoDatabasePath(dir: string): string {
  return join(dir, 'demo.db');
}

/** Creates the demo file if it does not exist yet; returns its path. */
export function ensureDemoDatabase(dir: string): string {
  const path = demoDatabasePath(dir);
  if (existsSync(path)) return path;
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  const engine = installCrr(db, { pollMs: 0 });
  db.transaction(() => {
    db.exec(`
      CREATE TABLE customers (id INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL DEFAULT '', email TEXT,
        city TEXT, credit REAL DEFAULT 0, joined TEXT);
      CREATE TABLE products (sku TEXT PRIMARY KEY NOT NULL, title TEXT, price REAL, stock INTEGER DEFAULT 0, image BLOB);
      CREATE TABLE orders (id INTEGER PRIMARY KEY NOT NULL, customer_id INTEGER REFERENCES customers(id),
        sku TEXT, quantity INTEGER, placed_at TEXT);
      CREATE TABLE events (id INTEGER PRIMARY KEY NOT NULL, kind TEXT, at TEXT, value REAL);
      CREATE TABLE todos (id INTEGER PRIMARY KEY NOT NULL, title TEXT, done BOOLEAN, due DATE, updated_at TIMESTAMP,
        details JSON, notes TEXT);
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
      INSERT INTO customers SELECT i,
        json_extract(${list(FIRST)}, '$[' || (i * 7 % 12) || ']') || ' ' || json_extract(${list(LAST)}, '$[' || (i * 5 % 12) || ']'),
        lower(json_extract(${list(FIRST)}, '$[' || (i * 7 % 12) || ']')) || i || '@example.com',
        CASE WHEN i % 17 = 0 THEN NULL ELSE json_extract(${list(CITIES)}, '$[' || (i % 10) || ']') END,
        round((i * 37 % 1000) / 10.0, 1), date('2024-01-01', '+' || (i * 3 % 700) || ' days') FROM n;
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
      INSERT INTO products SELECT printf('SKU-%04d', i),
        json_extract(${list(PRODUCTS)}, '$[' || (i % 10) || ']') || ' ' || (i / 10 + 1),
        round(5 + (i * 13 % 300) + 0.99, 2), i * 11 % 90, CASE WHEN i % 5 = 0 THEN unhex('89504E470D0A1A0A' || printf('%04X', i)) END FROM n;
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
      INSERT INTO orders SELECT i, 1 + i * 31 % 500, printf('SKU-%04d', 1 + i * 7 % 200), 1 + i % 5,
        datetime('2025-01-01', '+' || (i * 97 % 500000) || ' minutes') FROM n;
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
      INSERT INTO events SELECT i, CASE i % 4 WHEN 0 THEN 'view' WHEN 1 THEN 'click' WHEN 2 THEN 'buy' ELSE 'leave' END,
        datetime('2025-06-01', '+' || i || ' seconds'), (i * 7919 % 10000) / 100.0 FROM n;
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
      INSERT INTO todos SELECT i, json_extract(${list(PRODUCTS)}, '$[' || (i % 10) || ']') || ': to do ' || i,
        CASE WHEN i % 7 = 0 THEN NULL WHEN i % 3 = 0 THEN 1 ELSE 0 END,
        CASE WHEN i % 9 = 0 THEN NULL ELSE date('2026-01-01', '+' || (i * 5) || ' days') END,
        1767225600 + i * 25200,
        json_object('priority', i % 4, 'tags', json_array(json_extract(${list(CITIES)}, '$[' || (i % 10) || ']'), 'demo'), 'estimate', (i % 8) / 2.0),
        CASE WHEN i % 5 = 0 THEN 'Step one' || char(10) || 'Step two' || char(10) || '  indented step three' END FROM n;
    `);
  })();
  engine.asCrr('customers');
  engine.asCrr('products');
  engine.asCrr('todos');
  engine.close();
  db.close();
  return path;
}
