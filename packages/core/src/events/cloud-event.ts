import { InvalidEnvelopeError } from '../errors';
import { decodeEnvelope } from './decode-envelope';
import type { Envelope } from './envelope';

/**
 * A CloudEvents 1.0 event in structured JSON mode. relaybus fields without a CloudEvents attribute travel as
 * extension attributes (lower-case letters and digits only, as the spec requires).
 *
 * @example
 * ```ts
 * const ce: CloudEvent = toCloudEvent(event);
 * response.setHeader('content-type', 'application/cloudevents+json');
 * response.end(JSON.stringify(ce));
 * ```
 */
export interface CloudEvent {
  /** Always `"1.0"`. */
  readonly specversion: '1.0';
  /** Envelope `id`. */
  readonly id: string;
  /** Envelope `type`. */
  readonly type: string;
  /** Envelope `source`. */
  readonly source: string;
  /** Envelope `time`. */
  readonly time: string;
  /** Always `"application/json"`. */
  readonly datacontenttype: 'application/json';
  /** Envelope `subject`. */
  readonly subject?: string;
  /** Envelope `data`. */
  readonly data: unknown;
  /** Extension attributes: `dataversion`, `partitionkey`, `correlationid`, `causationid`, `traceparent`, `metadata`, ... */
  readonly [extension: string]: unknown;
}

/**
 * Converts an envelope to a CloudEvents 1.0 structured-mode object. {@link fromCloudEvent} reverses it losslessly.
 *
 * @example
 * ```ts
 * const ce = toCloudEvent(TaskCreated.create({ taskId: 't1', title: 'Write' }));
 * ce.specversion; // '1.0'
 * ```
 */
export function toCloudEvent(envelope: Envelope): CloudEvent {
  const ce: Record<string, unknown> = {
    specversion: '1.0',
    id: envelope.id,
    type: envelope.type,
    source: envelope.source,
    time: envelope.time,
    datacontenttype: 'application/json',
    dataversion: envelope.version,
  };
  if (envelope.subject !== undefined) ce['subject'] = envelope.subject;
  if (envelope.key !== undefined) ce['partitionkey'] = envelope.key;
  if (envelope.correlationId !== undefined) ce['correlationid'] = envelope.correlationId;
  if (envelope.causationId !== undefined) ce['causationid'] = envelope.causationId;
  if (envelope.traceparent !== undefined) ce['traceparent'] = envelope.traceparent;
  if (Object.keys(envelope.metadata).length > 0) ce['metadata'] = envelope.metadata;
  if (envelope.position !== undefined) ce['position'] = envelope.position;
  if (envelope.stream !== undefined) ce['stream'] = envelope.stream;
  if (envelope.streamVersion !== undefined) ce['streamversion'] = envelope.streamVersion;
  ce['data'] = envelope.data;
  return ce as CloudEvent;
}

/**
 * Converts a CloudEvents 1.0 structured-mode object (or its JSON text) back to an envelope. The payload is not
 * validated here: the bus validates it against the event's schema when it is consumed.
 *
 * @throws {@link InvalidEnvelopeError} when required attributes are missing or of the wrong type.
 * @example
 * ```ts
 * const event = fromCloudEvent(JSON.parse(body));
 * ```
 */
export function fromCloudEvent(cloudEvent: unknown): Envelope {
  const value = typeof cloudEvent === 'string' ? parseJson(cloudEvent) : cloudEvent;
  if (value === null || typeof value !== 'object')
    throw new InvalidEnvelopeError('a CloudEvent must be an object');
  const ce = value as Record<string, unknown>;
  if (ce['specversion'] !== '1.0') {
    throw new InvalidEnvelopeError(`specversion must be "1.0", got ${JSON.stringify(ce['specversion'])}`);
  }
  return decodeEnvelope({
    id: ce['id'],
    type: ce['type'],
    version: ce['dataversion'] ?? 1,
    time: ce['time'],
    source: ce['source'],
    subject: ce['subject'],
    key: ce['partitionkey'],
    correlationId: ce['correlationid'],
    causationId: ce['causationid'],
    traceparent: ce['traceparent'],
    metadata: ce['metadata'] ?? {},
    position: ce['position'],
    stream: ce['stream'],
    streamVersion: ce['streamversion'],
    data: ce['data'],
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidEnvelopeError('the CloudEvent is not valid JSON', { cause: error });
  }
}
