/** The selected columns of an event row: ordering keys and JSON as text. */
export const EVENT_COLUMNS = `e.epoch, e.tx_id::text AS tx_id, e.id::text AS id, e.stream,
  e.stream_version::text AS stream_version, e.envelope::text AS envelope`;

/** Below the oldest transaction still in flight: no row can commit later in that range. */
export const XMIN: string = 'pg_snapshot_xmin(pg_current_snapshot())';

/**
 * The readable range after a position of an older epoch than the current one (`$1`-`$3` the position, `$5` the
 * current epoch): rows of older epochs are all readable, rows of the current one below {@link XMIN}.
 */
export const AFTER_OLDER_EPOCH: string = `(e.epoch, e.tx_id, e.id) > ($1::integer, $2::xid8, $3::bigint) AND (e.epoch, e.tx_id) < ($5::integer, ${XMIN})`;
