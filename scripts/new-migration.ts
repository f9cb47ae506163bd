// npm run db:migration -- <name>
// Writes prisma/migrations/<timestamp>_<name>/migration.sql with the SQL that takes the schema
// as committed (git HEAD:prisma/schema.prisma) to the working prisma/schema.prisma.
// Offline: Prisma's WASM engine diffs two datamodels; it needs a reachable DATABASE_URL only to
// start, never a shadow database. Review the file and
// add what Prisma cannot express (triggers, data moves) by hand.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const name = (process.argv[2] || '').replace(/[^a-z0-9_]/gi, '_');
if (!name) {
  console.error('usage: npm run db:migration -- <name>');
  process.exit(2);
}
const root = join(__dirname, '..');
const old = join(mkdtempSync(join(tmpdir(), 'the-eye-')), 'schema.prisma');
writeFileSync(old, execFileSync('git', ['show', 'HEAD:prisma/schema.prisma'], { cwd: root }));
const sql = execFileSync(
  'npx',
  [
    'prisma',
    'migrate',
    'diff',
    '--from-schema-datamodel',
    old,
    '--to-schema-datamodel',
    'prisma/schema.prisma',
    '--script',
  ],
  {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    // Any existing database will do: the engine only connects. `postgres` always exists.
    env: {
      ...process.env,
      DATABASE_URL: process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres',
    },
  },
);
if (!sql.trim() || /^-- This is an empty migration/.test(sql.trim())) {
  console.log('schema.prisma has no change against HEAD: nothing written');
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const dir = join(root, 'prisma', 'migrations', `${stamp}_${name}`);
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'migration.sql'), sql);
console.log(`wrote ${join('prisma', 'migrations', `${stamp}_${name}`, 'migration.sql')}`);
