import type { Statement } from './query';

/** Which rows a page filters to: every type, one type, or several. */
export type TypeFilter = 'all' | 'one' | 'many';

/**
 * Whether a page starts in the current epoch (the common case: positions of older epochs exist only after a
 * restore) or in an older one.
 */
export type EpochRange = 'current' | 'older';

/** The page statements of one store, by epoch range and type filter. */
export type PageStatements = Readonly<Record<`${EpochRange}:${TypeFilter}`, Statement>>;

/** The selected columns of an event row: ordering keys and JSON as text. */
export const EVENT_COLUMNS = `e.epoch, e.tx_id::text AS tx_id, e.id::text AS id, e.stream,
  e.stream_version::text AS stream_version, e.envelope::text AS envelope`;

/** Below the oldest transaction still in flight: no row can commit later in that range. */
export const XMIN: string = 'pg_snapshot_xmin(pg_current_snapshot())';

/**
 * The range after a position that is safe to read. Parameters: `$1` epoch, `$2` transaction id, `$3` row id of
 * the position, and for older epochs `$5` the current epoch.
 *
 * Within the current epoch the epoch is an equality, so the planner estimates the `(tx_id, id)` range from the
 * `tx_id` histogram (it judges a row comparison by its first column alone, and an inequality on the constant
 * epoch column would look empty) and picks the right index, such as `(partition, epoch, tx_id, id)` for a relay.
 */
export function rangeAfter(range: EpochRange): string {
  return range === 'current'
    ? `e.epoch = $1::integer AND (e.tx_id, e.id) > ($2::xid8, $3::bigint) AND e.tx_id < ${XMIN}`
    : `(e.epoch, e.tx_id, e.id) > ($1::integer, $2::xid8, $3::bigint) AND (e.epoch, e.tx_id) < ($5::integer, ${XMIN})`;
}

/**
 * Builds the six page statements of an events table. Parameters: `$1`-`$3` the position to read after, `$4` the
 * limit, then for older epochs `$5` the current epoch, then the type (`one`) or types (`many`).
 *
 * Filtered pages also return the visible head (`is_head`), in the same statement so both share one snapshot:
 * a page with fewer matches than its limit ends there, and nothing between the last match and the head can be
 * skipped.
 *
 * @example
 * ```ts
 * const page = pageStatements('"relaybus"."events"');
 * await pool.query(page['current:all'].text, [1, '753', '12', 100]);
 * ```
 */
export function pageStatements(events: string): PageStatements {
  const build = (range: EpochRange, filter: TypeFilter): Statement => {
    const where = rangeAfter(range);
    const order = 'ORDER BY e.epoch, e.tx_id, e.id LIMIT $4';
    const base = { label: 'readPage', privilege: `SELECT on ${events}` };
    if (filter === 'all')
      return { ...base, text: `SELECT ${EVENT_COLUMNS} FROM ${events} e WHERE ${where} ${order}` };
    const param = range === 'current' ? '$5' : '$6';
    const match = filter === 'one' ? `e.type = ${param}::text` : `e.type = ANY(${param}::text[])`;
    return {
      ...base,
      text: `WITH page AS (
          SELECT ${EVENT_COLUMNS} FROM ${events} e WHERE ${where} AND ${match} ${order}
        ), head AS (
          SELECT e.epoch, e.tx_id, e.id FROM ${events} e WHERE ${where}
          ORDER BY e.epoch DESC, e.tx_id DESC, e.id DESC LIMIT 1
        )
        SELECT false AS is_head, page.* FROM page
        UNION ALL
        SELECT true, h.epoch, h.tx_id::text, h.id::text, NULL, NULL, NULL FROM head h`,
    };
  };
  return {
    'current:all': build('current', 'all'),
    'current:one': build('current', 'one'),
    'current:many': build('current', 'many'),
    'older:all': build('older', 'all'),
    'older:one': build('older', 'one'),
    'older:many': build('older', 'many'),
  };
}
