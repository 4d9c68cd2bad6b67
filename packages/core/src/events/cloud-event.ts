import { InvalidEnvelopeError } from '../errors';
import { decodeEnvelope } from './decode-envelope';
import type { Envelope } from './envelope';

/**
 * A CloudEvents 1.0 event in structured JSON mode. relaybus fields without a CloudEvents attribute travel as
 * extension attributes, with names of lower-case letters and digits and values of the CloudEvents type system
 * (strings and integers), as the spec requires: `metadata` is a JSON object in a string attribute.
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
  /**
   * Extension attributes: `dataversion` (integer), `partitionkey`, `correlationid`, `causationid`, `traceparent`,
   * `metadata` (JSON text of the string map), `position`, `stream`, `streamversion` (integer).
   */
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
  if (Object.keys(envelope.metadata).length > 0) ce['metadata'] = JSON.stringify(envelope.metadata);
  if (envelope.position !== undefined) ce['position'] = envelope.position;
  if (envelope.stream !== undefined) ce['stream'] = envelope.stream;
  if (envelope.streamVersion !== undefined) ce['streamversion'] = envelope.streamVersion;
  ce['data'] = envelope.data;
  return ce as CloudEvent;
}

/**
 * Converts a CloudEvents 1.0 event back to an envelope: a structured-mode object or its JSON text, or the
 * attributes of a binary-mode message (as an SDK hands them over, where every extension arrives as a string:
 * integer strings are read as integers, `metadata` as JSON text). The payload is not validated here: the bus
 * validates it against the event's schema when it is consumed.
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
    version: integerAttribute(ce['dataversion']) ?? 1,
    time: ce['time'],
    source: ce['source'],
    subject: ce['subject'],
    key: ce['partitionkey'],
    correlationId: ce['correlationid'],
    causationId: ce['causationid'],
    traceparent: ce['traceparent'],
    metadata: metadataAttribute(ce['metadata']),
    position: ce['position'],
    stream: ce['stream'],
    streamVersion: integerAttribute(ce['streamversion']),
    data: ce['data'],
  });
}

/** An integer attribute, also when it arrived as text (binary mode carries every attribute as a header string). */
function integerAttribute(value: unknown): unknown {
  return typeof value === 'string' && /^(0|[1-9][0-9]{0,15})$/.test(value) ? Number(value) : value;
}

/** `metadata` as written by {@link toCloudEvent} (JSON text), or as an object. */
function metadataAttribute(value: unknown): unknown {
  if (value === undefined) return {};
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new InvalidEnvelopeError('the "metadata" attribute is not a JSON object of strings', {
      cause: error,
    });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidEnvelopeError('the CloudEvent is not valid JSON', { cause: error });
  }
}
