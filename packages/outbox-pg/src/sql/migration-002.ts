import type { Tables } from '../identifiers';

/**
 * Migration 2: the append as one server-side function, so the store's own append is a single round trip.
 *
 * `append_events(stream, expected, envelopes, partitions, lock class, lock key, channel)` takes the stream's
 * advisory lock (before the transaction id is assigned, so stream versions and transaction ids agree), locks or
 * creates the stream row, checks the expected version and that no later-started transaction wrote the stream,
 * inserts the events, bumps the stream row, and notifies `channel` when it is not null. It returns one row per
 * event with `outcome = 'appended'`, or a single row with `outcome` `'conflict'` (the expected version does not
 * hold; `actual` is the stream's version) or `'reordered'` (see `StreamOrderConflictError`), having written
 * nothing. `alone` on appended rows says no older transaction was in flight once the rows were written: then they
 * are readable in the global feed as soon as the append commits, and the store skips its visibility check. `expected` is `-1` for any, `-2` for no stream, `-3` for an existing stream, else the exact version.
 * A duplicate event id raises `unique_violation` on `events_event_id_key`, as the insert did before.
 *
 * @example
 * ```ts
 * for (const sql of migration002(tablesOf('relaybus'))) await client.query(sql);
 * ```
 */
export function migration002(t: Tables): string[] {
  const holds = (actual: string): string =>
    `(p_expected = -1 OR (p_expected = -2 AND ${actual} = 0) OR (p_expected = -3 AND ${actual} > 0)
      OR p_expected = ${actual})`;
  const insert = (base: string): string => `RETURN QUERY
      WITH input AS (
        SELECT i.envelope, i.partition, i.ord
        FROM ROWS FROM (jsonb_array_elements(p_envelopes), unnest(p_partitions)) WITH ORDINALITY
          AS i(envelope, partition, ord)
      ), inserted AS (
        INSERT INTO ${t.events} (epoch, event_id, stream, stream_version, type, version, key, partition, envelope)
        SELECT v_epoch, i.envelope->>'id', p_stream, ${base} + i.ord, i.envelope->>'type',
          (i.envelope->>'version')::integer, i.envelope->>'key', i.partition, i.envelope
        FROM input i ORDER BY i.ord
        RETURNING events.epoch, events.tx_id, events.id, events.stream_version
      )
      SELECT 'appended'::text, ${base}, n.epoch, n.tx_id::text, n.id::text, n.stream_version::text,
        pg_snapshot_xmin(pg_current_snapshot()) = pg_current_xact_id()
      FROM inserted n ORDER BY n.stream_version;`;
  return [
    `CREATE FUNCTION ${t.appendEvents}(
      p_stream text, p_expected bigint, p_envelopes jsonb, p_partitions integer[],
      p_lock_class integer, p_lock_key integer, p_channel text
    ) RETURNS TABLE (
      outcome text, actual bigint, epoch integer, tx_id text, id text, stream_version text, alone boolean
    )
    LANGUAGE plpgsql VOLATILE
    AS $fn$
    #variable_conflict use_column
    DECLARE
      v_epoch integer;
      v_version bigint;
      v_in_order boolean;
      v_count integer := jsonb_array_length(p_envelopes);
    BEGIN
      PERFORM pg_advisory_xact_lock(p_lock_class, p_lock_key);
      SELECT m.epoch INTO v_epoch FROM ${t.meta} m;
      -- Two rounds at most: a stream created by a concurrent writer between the lookup and the insert is locked next.
      FOR round IN 1..2 LOOP
        SELECT s.version, (s.last_epoch, s.last_tx_id) <= (v_epoch, pg_current_xact_id())
          INTO v_version, v_in_order
          FROM ${t.streams} s WHERE s.stream = p_stream FOR UPDATE OF s;
        IF FOUND THEN
          IF NOT v_in_order THEN
            RETURN QUERY SELECT 'reordered'::text, v_version, NULL::integer, NULL::text, NULL::text, NULL::text, NULL::boolean;
            RETURN;
          END IF;
          IF NOT ${holds('v_version')} THEN
            RETURN QUERY SELECT 'conflict'::text, v_version, NULL::integer, NULL::text, NULL::text, NULL::text, NULL::boolean;
            RETURN;
          END IF;
          UPDATE ${t.streams} SET version = v_version + v_count, last_epoch = v_epoch,
            last_tx_id = pg_current_xact_id()
          WHERE stream = p_stream;
          ${insert('v_version')}
          IF p_channel IS NOT NULL THEN PERFORM pg_notify(p_channel, ''); END IF;
          RETURN;
        END IF;
        IF NOT ${holds('0')} THEN
          RETURN QUERY SELECT 'conflict'::text, 0::bigint, NULL::integer, NULL::text, NULL::text, NULL::text, NULL::boolean;
          RETURN;
        END IF;
        INSERT INTO ${t.streams} (stream, version, last_epoch, last_tx_id)
        VALUES (p_stream, v_count, v_epoch, pg_current_xact_id())
        ON CONFLICT (stream) DO NOTHING;
        IF FOUND THEN
          ${insert('0::bigint')}
          IF p_channel IS NOT NULL THEN PERFORM pg_notify(p_channel, ''); END IF;
          RETURN;
        END IF;
      END LOOP;
      RAISE EXCEPTION 'append to %: the stream row neither existed nor could be created', p_stream;
    END;
    $fn$`,
  ];
}
