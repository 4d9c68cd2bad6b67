import { InvalidOptionError } from '@relaybus/core';

/** Where a page of `list` ended: the last job's place in its state (the order it entered it) and its id. */
export interface ListCursor {
  readonly score: string;
  readonly id: string;
}

/** The opaque `next` of a page. */
export function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify([cursor.score, cursor.id]), 'utf8').toString('base64url');
}

/**
 * Reads a cursor `encodeCursor` wrote.
 *
 * @throws `InvalidOptionError` naming `where` when it is not one.
 */
export function decodeCursor(after: string, where: string): ListCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(after, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'string' ||
    !/^-?\d+$/.test(parsed[0]) ||
    typeof parsed[1] !== 'string'
  ) {
    throw new InvalidOptionError(
      where,
      'after',
      `(${JSON.stringify(after)}) is not a cursor of this backend: pass the "next" of the previous page as it is`,
    );
  }
  return { score: parsed[0], id: parsed[1] };
}
