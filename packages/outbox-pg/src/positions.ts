import { InvalidPositionError } from '@relaybus/core';

const EPOCH_DIGITS = 4;
const TX_DIGITS = 20;
const ID_DIGITS = 20;
const PATTERN = /^(\d{4})\.(\d{20})\.(\d{20})$/;
const MAX_TX = '18446744073709551615'; // xid8: unsigned 64-bit
const MAX_ID = '09223372036854775807'; // bigint, padded to ID_DIGITS
const DESCRIPTION = `"EEEE.TTTTTTTTTTTTTTTTTTTT.IIIIIIIIIIIIIIIIIIII": epoch, transaction id and row id, zero-padded`;

/**
 * A position taken apart, each part as Postgres accepts it (decimal text without leading zeros: `xid8` input
 * reads a leading zero as octal).
 *
 * @example
 * ```ts
 * const { epoch, txId, id } = parsePosition('0001.00000000000000000753.00000000000000000012');
 * ```
 */
export interface PositionParts {
  readonly epoch: number;
  readonly txId: string;
  readonly id: string;
}

/** Where a read starts when it has no `from`: before every row of the first epoch. */
export const ORIGIN: PositionParts = { epoch: 1, txId: '0', id: '0' };

/**
 * Formats a row's ordering key as a position: `EEEE.TTTTTTTTTTTTTTTTTTTT.IIIIIIIIIIIIIIIIIIII`, the epoch, the
 * writing transaction's `xid8` and the row's identity, each zero-padded so positions compare correctly as plain
 * strings. `txId` and `id` arrive as text from Postgres and never pass through a JS number.
 *
 * @example
 * ```ts
 * formatPosition(1, '753', '12'); // '0001.00000000000000000753.00000000000000000012'
 * ```
 */
export function formatPosition(epoch: number, txId: string, id: string): string {
  return `${String(epoch).padStart(EPOCH_DIGITS, '0')}.${txId.padStart(TX_DIGITS, '0')}.${id.padStart(ID_DIGITS, '0')}`;
}

/**
 * Parses a position of this store; `undefined` means "from the beginning".
 *
 * @throws `InvalidPositionError` when `position` is not a well-formed position of the Postgres store.
 * @example
 * ```ts
 * const from = parsePosition(options.from) ?? ORIGIN;
 * ```
 */
export function parsePosition(position: unknown): PositionParts {
  const match = typeof position === 'string' ? PATTERN.exec(position) : null;
  const [, epoch, txId, id] = match ?? [];
  if (epoch === undefined || txId === undefined || id === undefined || txId > MAX_TX || id > MAX_ID) {
    throw new InvalidPositionError(position, 'postgres', DESCRIPTION);
  }
  return { epoch: Number(epoch), txId: stripZeros(txId), id: stripZeros(id) };
}

function stripZeros(digits: string): string {
  return digits.replace(/^0+(?=\d)/, '');
}
