import { InvalidEnvelopeError, InvalidOptionError, UnknownStreamEventError } from '../errors';
import { type AnyEventDefinition, upcastData, validate } from '../events/define-event';
import type { StoredEvent } from '../store/event-store';

/**
 * Brings a stored event to its definition's current version and validates it: upcasts older payloads, then runs
 * the schema. Shared by projections and aggregates, which both read history written by older code.
 *
 * @param reader - names the projection or aggregate in error messages.
 * @throws {@link UnknownStreamEventError} when `catalog` has no definition for the event's type.
 * @throws {@link InvalidEnvelopeError} naming the stream and version when upcasting or validation fails.
 * Returns a promise only when the schema validates asynchronously.
 */
export function decodeStoredEvent(
  reader: string,
  catalog: ReadonlyMap<string, AnyEventDefinition>,
  event: StoredEvent,
): StoredEvent | Promise<StoredEvent> {
  const definition = catalog.get(event.type);
  if (definition === undefined) {
    throw new UnknownStreamEventError(reader, event.stream, event.streamVersion, event.type, [
      ...catalog.keys(),
    ]);
  }
  const fail = (error: unknown): never => {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidEnvelopeError(
      `"${event.type}" at stream "${event.stream}" version ${event.streamVersion} (position ${event.position}) cannot be read by ${reader}: ${reason}`,
      { cause: error },
    );
  };
  const withData = (data: unknown): StoredEvent =>
    data === event.data && event.version === definition.version
      ? event
      : { ...event, version: definition.version, data };
  try {
    const data = validate(event.type, definition.schema, upcastData(definition, event.version, event.data));
    return data instanceof Promise ? data.then(withData, fail) : withData(data);
  } catch (error) {
    return fail(error);
  }
}

/**
 * Indexes event definitions by type for {@link decodeStoredEvent}.
 * @throws {@link InvalidOptionError} for an empty list, a non-definition or a type listed twice.
 */
export function eventCatalog(
  where: string,
  events: ReadonlyArray<AnyEventDefinition>,
): ReadonlyMap<string, AnyEventDefinition> {
  if (!Array.isArray(events) || events.length === 0) {
    throw new InvalidOptionError(where, 'events', 'must list at least one event definition');
  }
  const catalog = new Map<string, AnyEventDefinition>();
  events.forEach((definition: unknown, i) => {
    if (
      typeof definition !== 'object' ||
      definition === null ||
      !('type' in definition) ||
      !('schema' in definition)
    ) {
      throw new InvalidOptionError(
        where,
        `events[${i}]`,
        'must be an event definition made by defineEvent()',
      );
    }
    const event = definition as AnyEventDefinition;
    if (catalog.has(event.type))
      throw new InvalidOptionError(where, `events[${i}]`, `lists "${event.type}" twice`);
    catalog.set(event.type, event);
  });
  return catalog;
}
