import type { Tables } from '../identifiers';

/**
 * Migration 1: the event log (which is the outbox), stream heads, and the tables of projections, relays, the
 * inbox and snapshots. Documented column by column in the package README ("Schema").
 *
 * @example
 * ```ts
 * for (const sql of migration001(tablesOf('relaybus'), 16)) await client.query(sql);
 * ```
 */
export function migration001(t: Tables, partitions: number): string[] {
  return [
    `CREATE TABLE ${t.meta} (
      singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
      partitions integer NOT NULL CHECK (partitions BETWEEN 1 AND 1024),
      epoch integer NOT NULL DEFAULT 1 CHECK (epoch BETWEEN 1 AND 9999),
      epoch_started_at timestamptz NOT NULL DEFAULT now(),
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `INSERT INTO ${t.meta} (partitions) VALUES (${Number(partitions)})`,

    `CREATE TABLE ${t.events} (
      epoch integer NOT NULL,
      tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
      id bigint GENERATED ALWAYS AS IDENTITY,
      event_id text NOT NULL,
      stream text NOT NULL,
      stream_version bigint NOT NULL CHECK (stream_version >= 1),
      type text NOT NULL,
      version integer NOT NULL,
      key text,
      partition integer NOT NULL,
      envelope jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT events_pkey PRIMARY KEY (epoch, tx_id, id),
      CONSTRAINT events_event_id_key UNIQUE (event_id),
      CONSTRAINT events_stream_version_key UNIQUE (stream, stream_version)
    )`,
    `CREATE INDEX events_partition_order ON ${t.events} (partition, epoch, tx_id, id)`,
    `CREATE INDEX events_type_order ON ${t.events} (type, epoch, tx_id, id)`,

    `CREATE TABLE ${t.streams} (
      stream text PRIMARY KEY,
      version bigint NOT NULL CHECK (version >= 0),
      last_epoch integer NOT NULL,
      last_tx_id xid8 NOT NULL
    )`,

    `CREATE TABLE ${t.checkpoints} (
      name text PRIMARY KEY,
      position text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,

    `CREATE TABLE ${t.relayLeases} (
      relay text NOT NULL,
      partition integer NOT NULL,
      owner text,
      token bigint NOT NULL DEFAULT 0,
      expires_at timestamptz,
      position text,
      attempt_event_id text,
      attempts integer NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (relay, partition)
    )`,

    `CREATE TABLE ${t.relayDeadLetters} (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      relay text NOT NULL,
      partition integer NOT NULL,
      event_id text NOT NULL,
      position text NOT NULL,
      stream text NOT NULL,
      type text NOT NULL,
      key text,
      attempts integer NOT NULL,
      error jsonb NOT NULL,
      parked_at timestamptz NOT NULL DEFAULT now(),
      redriven_at timestamptz,
      CONSTRAINT relay_dead_letters_event_key UNIQUE (relay, event_id)
    )`,
    `CREATE INDEX relay_dead_letters_parked_keys ON ${t.relayDeadLetters} (relay, partition, key) WHERE redriven_at IS NULL`,

    `CREATE TABLE ${t.inbox} (
      consumer text NOT NULL,
      message_id text NOT NULL,
      processed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (consumer, message_id)
    )`,
    `CREATE INDEX inbox_processed_at ON ${t.inbox} (processed_at)`,

    `CREATE TABLE ${t.snapshots} (
      stream text PRIMARY KEY,
      stream_version bigint NOT NULL,
      schema_version integer NOT NULL,
      state jsonb NOT NULL,
      taken_at timestamptz NOT NULL
    )`,
  ];
}
