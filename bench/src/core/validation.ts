import type { BenchGroup } from '../lib/contender';
import { emitterContenders } from './emitter-contenders';
import { relaybusContender } from './relaybus-contender';

/** Validation on both sides: relaybus by default, the emitters by parsing with the same zod schema twice. */
export const validationGroup: BenchGroup = {
  id: 'core/validation',
  title: 'In process, validation on both sides',
  baseline: 'emittery',
  contenders: [
    relaybusContender({ name: 'relaybus (memory, validation on)', validate: true, middleware: 0 }),
    relaybusContender({
      name: 'relaybus (memory, validation on, 3 middleware)',
      validate: true,
      middleware: 3,
    }),
    ...emitterContenders(true),
  ],
};
