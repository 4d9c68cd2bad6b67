import { DelayHeap, type Due } from '../../transport/memory/delay-heap';
import { type GroupRate, JOB_PRIORITIES, type JobPriority, type PriorityPolicy } from '../backend';

/** A pending job's place in line: `dueAt` holds its order (lower first). */
interface Entry extends Due {
  readonly id: string;
  readonly version: number;
}

/** Pending jobs of one group in one level, oldest (lowest order) first. */
interface GroupLine {
  readonly heap: DelayHeap<Entry>;
  count: number;
}

/** One priority level: ungrouped jobs, and groups taking turns. */
interface Level {
  readonly ungrouped: DelayHeap<Entry>;
  ungroupedCount: number;
  readonly groups: Map<string, GroupLine>;
  /** Groups with pending jobs here that may start one now, in round-robin order (first = next). */
  readonly ring: Set<string>;
  /** Whether the next pick in this level goes to a group (ungrouped jobs and groups alternate). */
  groupsNext: boolean;
  /** Smooth weighted round-robin credit. */
  credit: number;
}

/** What a pending job needs to be placed in line. */
export interface ReadyJob {
  readonly id: string;
  readonly version: number;
  readonly priority: JobPriority;
  readonly group?: string;
  readonly order: number;
}

/** The limits groups are held to (the last claim's). */
export interface GroupLimits {
  readonly concurrency: number;
  readonly rate: GroupRate | undefined;
}

/**
 * The pending jobs of one queue, ready to be claimed in the order the backend contract sets: a priority level by
 * the policy, then ungrouped jobs and groups alternately, groups in round robin, each group's oldest job first, and
 * only groups below their concurrency and inside their rate window. Removal is lazy: a job that stopped being
 * pending keeps its entry until it is reached, and `isPending` tells.
 */
export class ReadyJobs {
  private readonly levels = new Map<JobPriority, Level>();
  private readonly active = new Map<string, number>();
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly throttled = new DelayHeap<Due & { readonly group: string }>();
  private limits: GroupLimits = { concurrency: 1, rate: undefined };

  constructor(private readonly isPending: (id: string, version: number) => boolean) {
    for (const priority of JOB_PRIORITIES) {
      this.levels.set(priority, {
        ungrouped: new DelayHeap(),
        ungroupedCount: 0,
        groups: new Map(),
        ring: new Set(),
        groupsNext: false,
        credit: 0,
      });
    }
  }

  /** Puts a pending job in line. */
  push(job: ReadyJob): void {
    const level = this.level(job.priority);
    const entry: Entry = { dueAt: job.order, seq: 0, id: job.id, version: job.version };
    if (job.group === undefined) {
      level.ungrouped.push(entry);
      level.ungroupedCount++;
      return;
    }
    let line = level.groups.get(job.group);
    if (line === undefined) {
      line = { heap: new DelayHeap(), count: 0 };
      level.groups.set(job.group, line);
    }
    line.heap.push(entry);
    line.count++;
    if (this.mayStart(job.group, Number.NEGATIVE_INFINITY)) level.ring.add(job.group);
  }

  /** A job left the line some other way (cancelled, debounced, deleted): its entry is skipped when reached. */
  forget(job: Omit<ReadyJob, 'order' | 'version'>): void {
    const level = this.level(job.priority);
    if (job.group === undefined) {
      level.ungroupedCount--;
      return;
    }
    const line = level.groups.get(job.group);
    if (line === undefined) return;
    line.count--;
    if (line.count === 0) {
      level.groups.delete(job.group);
      level.ring.delete(job.group);
    }
  }

  /** The limits for the claims to come; groups are re-sorted when they change. */
  setLimits(limits: GroupLimits, now: number): void {
    const rate = limits.rate;
    const same =
      limits.concurrency === this.limits.concurrency &&
      rate?.max === this.limits.rate?.max &&
      rate?.perMs === this.limits.rate?.perMs;
    if (same) return;
    this.limits = limits;
    for (const level of this.levels.values()) {
      level.ring.clear();
      for (const group of level.groups.keys()) if (this.mayStart(group, now)) level.ring.add(group);
    }
  }

  /** Lets groups whose rate window ended take turns again. */
  promoteThrottled(now: number): void {
    for (
      let next = this.throttled.peek();
      next !== undefined && next.dueAt <= now;
      next = this.throttled.peek()
    ) {
      this.throttled.pop();
      this.reopen(next.group, now);
    }
  }

  /** The next job to claim under `policy`, or `undefined` when nothing may start. */
  take(policy: PriorityPolicy, now: number): string | undefined {
    for (;;) {
      const level = this.pickLevel(policy);
      if (level === undefined) return undefined;
      const id = this.takeFrom(level, now);
      if (id !== undefined) return id;
    }
  }

  /** A job of `group` started: counts it against the group's concurrency and rate window. */
  started(group: string, now: number): void {
    this.active.set(group, (this.active.get(group) ?? 0) + 1);
    const rate = this.limits.rate;
    if (rate !== undefined) {
      const window = this.windows.get(group);
      if (window === undefined || now >= window.start + rate.perMs) {
        this.windows.set(group, { start: now, count: 1 });
      } else {
        window.count++;
      }
    }
    if (!this.mayStart(group, now)) this.close(group, now);
  }

  /** A job of `group` stopped being active: its slot is free again. */
  finished(group: string, now: number): void {
    const count = (this.active.get(group) ?? 1) - 1;
    if (count <= 0) this.active.delete(group);
    else this.active.set(group, count);
    this.reopen(group, now);
  }

  /** Whether any level has a job that may start now. */
  hasClaimable(): boolean {
    for (const level of this.levels.values())
      if (level.ungroupedCount > 0 || level.ring.size > 0) return true;
    return false;
  }

  /** When a throttled group may start again, if any waits. */
  nextThrottleEnd(): number | undefined {
    return this.throttled.peek()?.dueAt;
  }

  private level(priority: JobPriority): Level {
    return this.levels.get(priority) as Level;
  }

  private mayStart(group: string, now: number): boolean {
    if ((this.active.get(group) ?? 0) >= this.limits.concurrency) return false;
    const rate = this.limits.rate;
    const window = this.windows.get(group);
    if (rate === undefined || window === undefined) return true;
    return now === Number.NEGATIVE_INFINITY
      ? window.count < rate.max
      : now >= window.start + rate.perMs || window.count < rate.max;
  }

  /** Takes a group out of every ring; a group stopped by its rate waits in `throttled`. */
  private close(group: string, now: number): void {
    for (const level of this.levels.values()) level.ring.delete(group);
    const rate = this.limits.rate;
    const window = this.windows.get(group);
    const withinConcurrency = (this.active.get(group) ?? 0) < this.limits.concurrency;
    if (rate !== undefined && window !== undefined && withinConcurrency && now < window.start + rate.perMs) {
      this.throttled.push({ dueAt: window.start + rate.perMs, seq: 0, group });
    }
  }

  private reopen(group: string, now: number): void {
    if (!this.mayStart(group, now)) {
      this.close(group, now);
      return;
    }
    for (const level of this.levels.values()) if (level.groups.has(group)) level.ring.add(group);
  }

  private pickLevel(policy: PriorityPolicy): Level | undefined {
    let best: Level | undefined;
    let total = 0;
    for (const priority of JOB_PRIORITIES) {
      const level = this.level(priority);
      if (level.ungroupedCount === 0 && level.ring.size === 0) continue;
      if (policy.mode === 'strict') return level;
      const weight = policy.weights[priority];
      level.credit += weight;
      total += weight;
      if (best === undefined || level.credit > best.credit) best = level;
    }
    if (best !== undefined) best.credit -= total;
    return best;
  }

  private takeFrom(level: Level, now: number): string | undefined {
    const fromGroups = level.ring.size > 0 && (level.groupsNext || level.ungroupedCount === 0);
    level.groupsNext = !fromGroups;
    if (!fromGroups) return this.pop(level.ungrouped, () => level.ungroupedCount--);
    const [group] = level.ring;
    if (group === undefined) return undefined;
    const line = level.groups.get(group);
    if (line === undefined) {
      level.ring.delete(group);
      return undefined;
    }
    const id = this.pop(line.heap, () => line.count--);
    level.ring.delete(group);
    if (line.count === 0) level.groups.delete(group);
    else level.ring.add(group); // to the end of the round
    if (id !== undefined) this.started(group, now);
    return id;
  }

  private pop(heap: DelayHeap<Entry>, taken: () => void): string | undefined {
    for (let entry = heap.pop(); entry !== undefined; entry = heap.pop()) {
      if (this.isPending(entry.id, entry.version)) {
        taken();
        return entry.id;
      }
    }
    return undefined;
  }
}
