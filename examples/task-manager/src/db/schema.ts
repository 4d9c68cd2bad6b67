import type { Pool } from 'pg';

/**
 * The task manager's own tables, beside relaybus's event log (schema `relaybus`, made by `migrate` from
 * `@relaybus/outbox-pg`). Each migration runs once, in order, recorded in `app_migrations`.
 */
const MIGRATIONS: ReadonlyArray<{ readonly version: number; readonly sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE users (
        id text PRIMARY KEY,
        email text NOT NULL UNIQUE,
        name text NOT NULL,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE projects (
        id text PRIMARY KEY,
        name text NOT NULL,
        owner_id text NOT NULL REFERENCES users (id),
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE project_members (
        project_id text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        user_id text NOT NULL REFERENCES users (id),
        PRIMARY KEY (project_id, user_id)
      );
      CREATE TABLE tasks (
        id text PRIMARY KEY,
        project_id text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        title text NOT NULL,
        description text NOT NULL DEFAULT '',
        status text NOT NULL CHECK (status IN ('pending', 'in_progress', 'completed')),
        priority text NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
        assignee_id text REFERENCES users (id),
        collaborators text[] NOT NULL DEFAULT '{}',
        watchers text[] NOT NULL DEFAULT '{}',
        start_date date,
        end_date date,
        duration_days integer NOT NULL DEFAULT 1 CHECK (duration_days >= 0),
        is_critical boolean NOT NULL DEFAULT false,
        version integer NOT NULL DEFAULT 1,
        created_by text REFERENCES users (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX tasks_project ON tasks (project_id, created_at, id);
      CREATE TABLE task_dependencies (
        task_id text NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        depends_on text NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        PRIMARY KEY (task_id, depends_on),
        CHECK (task_id <> depends_on)
      );
      CREATE INDEX task_dependencies_depends_on ON task_dependencies (depends_on);
    `,
  },
  {
    version: 2,
    sql: `
      CREATE TABLE webhook_deliveries (
        digest text PRIMARY KEY,
        delivery_id text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE notifications (
        id text PRIMARY KEY,
        user_id text NOT NULL REFERENCES users (id),
        channel text NOT NULL,
        subject text NOT NULL,
        cause text NOT NULL,
        task_id text,
        sent_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX notifications_user ON notifications (user_id, sent_at DESC);
    `,
  },
  {
    version: 3,
    sql: 'ALTER TABLE users ADD COLUMN phone text',
  },
];

/** Brings the app's tables to the latest version; safe to run at every start, also from several processes. */
export async function migrateApp(pool: Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // One migrator at a time across processes; a lock held to the end of the transaction.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('task-manager:migrations'))");
    await client.query(
      'CREATE TABLE IF NOT EXISTS app_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ version: number | null }>(
      'SELECT max(version) AS version FROM app_migrations',
    );
    const current = rows[0]?.version ?? 0;
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO app_migrations (version) VALUES ($1)', [migration.version]);
    }
    await client.query('COMMIT');
    return MIGRATIONS.length;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
