import type { BenchGroup } from '../lib/contender';
import { emitterContenders } from './emitter-contenders';
import { relaybusContender } from './relaybus-contender';

/** Plain publish to handled: relaybus with validation off against in-process emitters. */
export const noValidationGroup: BenchGroup = {
  id: 'core/no-validation',
  title: 'In process, no validation',
  baseline: 'emittery',
  contenders: [
    relaybusContender({ name: 'relaybus (memory, validation off)', validate: false, middleware: 0 }),
    ...emitterContenders(false),
  ],
};
