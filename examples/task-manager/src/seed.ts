import type { Pool, PoolClient } from 'pg';
import { hashPassword } from './api/auth';
import { UserCreated } from './domain/events';
import type { AppBus, TaskService } from './domain/task-service';

/** The demo accounts; every password is `demo`. */
export const DEMO_USERS = [
  { id: 'u-ada', email: 'ada@example.com', name: 'Ada Lovelace' },
  { id: 'u-grace', email: 'grace@example.com', name: 'Grace Hopper', phone: '+15550100' },
] as const;
export const DEMO_PASSWORD = 'demo';

/**
 * Seeds the demo data once (skipped when the users exist): two users, a shared project `p1` with a small dependency
 * chain, and a project `p2` that only Grace sees.
 */
export async function seedDemo(pool: Pool, bus: AppBus, tasks: TaskService): Promise<boolean> {
  const client: PoolClient = await pool.connect();
  try {
    await client.query('BEGIN');
    // Replicated APIs start together: one seeds, the others find the users there.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('task-manager:seed'))");
    const { rows } = await client.query('SELECT 1 FROM users WHERE id = $1', [DEMO_USERS[0].id]);
    if (rows.length > 0) {
      await client.query('ROLLBACK');
      return false;
    }
    const hash = hashPassword(DEMO_PASSWORD);
    for (const user of DEMO_USERS) {
      await client.query(
        'INSERT INTO users (id, email, name, password_hash, phone) VALUES ($1, $2, $3, $4, $5)',
        [user.id, user.email, user.name, hash, 'phone' in user ? user.phone : null],
      );
      await bus.publish(
        UserCreated,
        { userId: user.id, email: user.email, name: user.name },
        { transaction: client },
      );
    }
    await client.query(`
      INSERT INTO projects (id, name, owner_id) VALUES ('p1', 'Product launch', 'u-ada'), ('p2', 'Compiler', 'u-grace');
      INSERT INTO project_members (project_id, user_id) VALUES ('p1', 'u-ada'), ('p1', 'u-grace'), ('p2', 'u-grace');
    `);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  const design = await tasks.create('u-ada', {
    projectId: 'p1',
    title: 'Design the landing page',
    assigneeId: 'u-ada',
    startDate: '2027-01-04',
    endDate: '2027-01-08',
    durationDays: 5,
    priority: 'high',
  });
  const build = await tasks.create('u-ada', {
    projectId: 'p1',
    title: 'Build the landing page',
    assigneeId: 'u-grace',
    startDate: '2027-01-11',
    endDate: '2027-01-15',
    durationDays: 5,
  });
  const copy = await tasks.create('u-grace', {
    projectId: 'p1',
    title: 'Write the launch post',
    startDate: '2027-01-11',
    endDate: '2027-01-12',
    durationDays: 2,
  });
  const launch = await tasks.create('u-ada', {
    projectId: 'p1',
    title: 'Launch',
    startDate: '2027-01-18',
    endDate: '2027-01-18',
    durationDays: 0,
    priority: 'urgent',
  });
  await tasks.addDependency('u-ada', build.id, design.id);
  await tasks.addDependency('u-ada', launch.id, build.id);
  await tasks.addDependency('u-ada', launch.id, copy.id);
  await tasks.create('u-grace', { projectId: 'p2', title: 'Write the linker', durationDays: 10 });
  return true;
}
