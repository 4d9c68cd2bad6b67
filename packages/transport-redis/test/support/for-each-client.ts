import { describe } from 'vitest';
import { type ClientFlavour, IOREDIS_5, IOREDIS_6 } from './client';

/** Environment variable selecting the ioredis majors a run tests: `5`, `6` or `5,6` (the default). */
export const IOREDIS_ENV = 'RELAYBUS_IOREDIS';

/** The flavours among `candidates` whose major this run tests (see {@link IOREDIS_ENV}). */
export function flavours(candidates: ReadonlyArray<ClientFlavour> = [IOREDIS_5, IOREDIS_6]): ClientFlavour[] {
  const raw = process.env[IOREDIS_ENV] ?? '5,6';
  const majors = new Set(raw.split(',').map((part) => part.trim()));
  for (const major of majors) {
    if (major !== '5' && major !== '6') throw new Error(`${IOREDIS_ENV} must list 5 and/or 6, got "${raw}"`);
  }
  return candidates.filter((flavour) => majors.has(String(flavour.major)));
}

/**
 * Registers `body` once per client flavour this run tests, each in its own `describe` named after it, so that a
 * file's tests (and their hooks) run against ioredis 5 and ioredis 6.
 *
 * @example
 * ```ts
 * forEachClient((flavour) => {
 *   it('works', async () => { const client = newClient({ url }, flavour); });
 * });
 * ```
 */
export function forEachClient(
  body: (flavour: ClientFlavour) => void,
  candidates?: ReadonlyArray<ClientFlavour>,
): void {
  for (const flavour of flavours(candidates)) describe(flavour.name, () => body(flavour));
}
