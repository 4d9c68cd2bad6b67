import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 8 * 1024;
const pool = Buffer.allocUnsafe(POOL_BYTES);
const SEQUENCE_HEX: string[] = Array.from({ length: 0x1000 }, (_, i) => i.toString(16).padStart(3, '0'));
const VARIANT = '89ab';
let poolHex = '';
let poolOffset = 0;
let lastMs = -1;
let sequence = 0;
let timePrefix = '';

/**
 * Returns a new UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter that keeps ids
 * generated in the same millisecond in creation order, then random bits.
 *
 * @example
 * ```ts
 * const id = uuidv7(); // '019356b1-8f3a-7c01-9b1e-2f4d5a6b7c8d'
 * ```
 */
export function uuidv7(): string {
  return uuidv7At(Date.now());
}

/** {@link uuidv7} for a clock reading the caller already has (one `Date.now()` per envelope, not two). */
export function uuidv7At(now: number): string {
  if (now > lastMs) {
    lastMs = now;
    sequence = 0;
    timePrefix = formatTime(now);
  } else {
    sequence += 1;
    if (sequence > 0xfff) {
      lastMs += 1;
      sequence = 0;
      timePrefix = formatTime(lastMs);
    }
  }
  // Random hex is produced a pool at a time; each id takes 16 characters of it.
  if (poolOffset + 16 > poolHex.length) {
    randomFillSync(pool);
    poolHex = pool.toString('hex');
    poolOffset = 0;
  }
  const o = poolOffset;
  poolOffset += 16;
  const variant = VARIANT.charAt(poolHex.charCodeAt(o + 15) & 3);
  return `${timePrefix}-7${SEQUENCE_HEX[sequence] ?? '000'}-${variant}${poolHex.slice(o, o + 3)}-${poolHex.slice(o + 3, o + 15)}`;
}

function formatTime(ms: number): string {
  const hex = ms.toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}`;
}
