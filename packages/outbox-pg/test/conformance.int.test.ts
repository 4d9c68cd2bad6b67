import { describeEventStoreConformance } from '@relaybus/core/testing';
import { describe } from 'vitest';
import { migrate, postgresEventStore } from '../src/index';
import { useTestDatabase } from './support/database';

describe('postgresEventStore', () => {
  const db = useTestDatabase();
  db.shareHorizonPerTest();

  describeEventStoreConformance(
    'postgres',
    async ({ namespace }) => {
      db.trackSchema(namespace);
      await migrate(db.pool, { schema: namespace });
      return postgresEventStore({ pool: db.pool, schema: namespace });
    },
    { timeoutScale: 2 },
  );
});
