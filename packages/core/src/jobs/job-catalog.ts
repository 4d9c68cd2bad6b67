import { InvalidOptionError, UnknownJobError } from '../errors';
import type { AnyJobDefinition } from './define-job';

/** A queue's job types by name, with checks that name the offending type. */
export class JobCatalog {
  private readonly byType = new Map<string, AnyJobDefinition>();

  constructor(jobs: ReadonlyArray<AnyJobDefinition>) {
    if (!Array.isArray(jobs) || jobs.length === 0) {
      throw new InvalidOptionError(
        'createJobQueue',
        'jobs',
        'must be a non-empty array of definitions made by defineJob()',
      );
    }
    jobs.forEach((definition, index) => {
      if (definition === null || typeof definition !== 'object' || definition.kind !== 'job') {
        throw new InvalidOptionError(
          'createJobQueue',
          `jobs[${index}]`,
          'is not a definition made by defineJob()',
        );
      }
      const existing = this.byType.get(definition.type);
      if (existing !== undefined && existing !== definition) {
        throw new InvalidOptionError(
          'createJobQueue',
          `jobs[${index}]`,
          `defines "${definition.type}" a second time; keep one definition per type`,
        );
      }
      this.byType.set(definition.type, definition);
    });
  }

  get types(): string[] {
    return [...this.byType.keys()];
  }

  get(type: string): AnyJobDefinition | undefined {
    return this.byType.get(type);
  }

  /** The catalog's definition of `definition.type`, or an error saying the type is not in the catalog. */
  require(definition: unknown, context: string): AnyJobDefinition {
    const type =
      typeof definition === 'object' && definition !== null
        ? String((definition as { type?: unknown }).type)
        : String(definition);
    const known = this.byType.get(type);
    if (known === undefined) throw new UnknownJobError(type, this.types, context);
    return known;
  }
}
