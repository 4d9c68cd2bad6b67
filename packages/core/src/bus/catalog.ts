import { InvalidOptionError, InvalidPatternError, UnknownEventError } from '../errors';
import type { AnyEventDefinition } from '../events/define-event';
import { compilePattern, isPattern } from '../transport/topic-pattern';

/** What a subscription asks the transport for. */
export interface ResolvedTarget {
  readonly topics?: ReadonlyArray<string>;
  readonly pattern?: string;
  readonly description: string;
}

/** The bus's event types by name, with checks that name the offending type. */
export class Catalog {
  private readonly byType = new Map<string, AnyEventDefinition>();

  constructor(events: ReadonlyArray<AnyEventDefinition>) {
    if (!Array.isArray(events)) {
      throw new InvalidOptionError('createEventBus', 'events', 'must be an array of event definitions');
    }
    events.forEach((definition, index) => {
      if (definition === null || typeof definition !== 'object' || typeof definition.type !== 'string') {
        throw new InvalidOptionError(
          'createEventBus',
          `events[${index}]`,
          'is not a definition made by defineEvent()',
        );
      }
      const existing = this.byType.get(definition.type);
      if (existing !== undefined && existing !== definition) {
        throw new InvalidOptionError(
          'createEventBus',
          `events[${index}]`,
          `defines "${definition.type}" a second time; keep one definition per type`,
        );
      }
      this.byType.set(definition.type, definition);
    });
  }

  get types(): string[] {
    return [...this.byType.keys()];
  }

  get(type: string): AnyEventDefinition | undefined {
    return this.byType.get(type);
  }

  /** The definition registered for `definition.type`, or an error saying the type is not in the catalog. */
  require(definition: AnyEventDefinition, context: string): AnyEventDefinition {
    const type = typeof definition === 'object' && definition !== null ? definition.type : String(definition);
    const known = this.byType.get(type);
    if (known === undefined) throw new UnknownEventError(type, this.types, context);
    return known;
  }

  /**
   * Turns a subscribe target into transport topics or a pattern. `where` names the call in errors.
   *
   * @throws `InvalidOptionError` for an empty target, `InvalidPatternError` for a malformed type or pattern, or a
   * pattern that matches no type of the catalog, `UnknownEventError` for a type that is not in it.
   */
  resolve(target: unknown, where: string): ResolvedTarget {
    if (typeof target === 'string') return this.resolveString(target, where);
    const list = Array.isArray(target) ? (target as unknown[]) : [target];
    if (list.length === 0) {
      throw new InvalidOptionError(where, 'target', 'is an empty list; give at least one event definition');
    }
    const topics = list.map((item) => this.require(item as AnyEventDefinition, `in ${where}()`).type);
    return { topics, description: topics.map((t) => `"${t}"`).join(', ') };
  }

  private resolveString(target: string, where: string): ResolvedTarget {
    if (target.length === 0) {
      throw new InvalidOptionError(
        where,
        'target',
        'is an empty string; give an event definition, a list of them, an event type or a pattern such as "task.*"',
      );
    }
    // Checks the words of plain types too: "task..created" is malformed, not merely unknown.
    const match = compilePattern(target);
    if (!isPattern(target)) {
      if (!this.byType.has(target)) throw new UnknownEventError(target, this.types, `in ${where}()`);
      return { topics: [target], description: `"${target}"` };
    }
    if (!this.types.some(match)) {
      const known = this.types.map((t) => `"${t}"`).join(', ') || 'none';
      throw new InvalidPatternError(
        target,
        `it matches no event type of the catalog (known: ${known}); types are case-sensitive`,
      );
    }
    return { pattern: target, description: `pattern "${target}"` };
  }
}
