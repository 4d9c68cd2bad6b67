import { noValidationGroup } from './core/no-validation';
import { validationGroup } from './core/validation';
import type { BenchGroup } from './lib/contender';
import { REDIS_GROUPS } from './redis/groups';

/** Every benchmark group, in report order. Adapters add theirs here. */
export const GROUPS: ReadonlyArray<BenchGroup> = [noValidationGroup, validationGroup, ...REDIS_GROUPS];

/** The groups selected by CLI filters: a filter selects the groups whose id is it or starts with `<filter>/`. */
export function selectGroups(filters: ReadonlyArray<string>): BenchGroup[] {
  if (filters.length === 0) return [...GROUPS];
  return GROUPS.filter((group) =>
    filters.some((filter) => group.id === filter || group.id.startsWith(`${filter}/`)),
  );
}
