import type { Contender } from '../lib/contender';
import { relaybusRedisContender } from '../redis/relaybus-contender';
import { RAW_NAME, rawContender } from './raw-contender';
import {
  natsTransportContender,
  RELAYBUS_NAME,
  relaybusNatsContender,
  TRANSPORT_NAME,
} from './relaybus-contender';
import type { NatsScenario } from './scenario';

/** relaybus on the Redis transport, for reference: the same bus, the same work, another broker. */
export const REDIS_NAME = 'relaybus on Redis (reference)';

/** Every contender of the NATS benchmark, in table order. */
export const CONTENDER_NAMES = [RELAYBUS_NAME, TRANSPORT_NAME, RAW_NAME, REDIS_NAME] as const;

/** The contender named `name` for `scenario`. */
export function natsContender(name: string, scenario: NatsScenario): Contender | undefined {
  switch (name) {
    case RELAYBUS_NAME:
      return relaybusNatsContender(scenario);
    case TRANSPORT_NAME:
      return natsTransportContender(scenario);
    case RAW_NAME:
      return rawContender(scenario);
    case REDIS_NAME:
      return { ...relaybusRedisContender(scenario), name: REDIS_NAME };
    default:
      return undefined;
  }
}
