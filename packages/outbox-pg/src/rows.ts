import type { AppendResult, Envelope, StoredEvent } from '@relaybus/core';
import { formatPosition } from './positions';

/** A stored event as the read statements select it: ordering keys and JSON as text. */
export interface EventRow {
  readonly epoch: number;
  readonly tx_id: string;
  readonly id: string;
  readonly stream: string;
  readonly stream_version: string;
  readonly envelope: string;
}

/** What an insert returns per event. */
export interface InsertedRow {
  readonly epoch: number;
  readonly tx_id: string;
  readonly id: string;
  readonly stream_version: string;
}

/** The position of a row from its ordering key. */
export function positionOfRow(row: {
  readonly epoch: number;
  readonly tx_id: string;
  readonly id: string;
}): string {
  return formatPosition(row.epoch, row.tx_id, row.id);
}

/** A selected row as a {@link StoredEvent}. */
export function storedEventOf(row: EventRow): StoredEvent {
  // The envelope is selected as text and parsed here, so a pool with custom jsonb type parsers reads the same.
  // The parsed object is ours alone: the stored fields go onto it rather than into a copy (replay reads millions).
  const event = JSON.parse(row.envelope) as Envelope & {
    position: string;
    stream: string;
    streamVersion: number;
  };
  event.position = positionOfRow(row);
  event.stream = row.stream;
  event.streamVersion = Number(row.stream_version);
  return event;
}

/** An {@link AppendResult} from the stored events of one append, in order. */
export function resultFrom(stream: string, events: ReadonlyArray<StoredEvent>): AppendResult {
  const first = events[0];
  const last = events[events.length - 1];
  if (first === undefined || last === undefined) throw new Error(`append to "${stream}" stored no events`);
  return {
    stream,
    streamVersion: last.streamVersion,
    firstPosition: first.position,
    lastPosition: last.position,
    events,
  };
}
