/**
 * Finish-to-start scheduling for a project: dependency cycles (named, so an error can say which tasks form one) and
 * the critical path method (earliest and latest start and finish, slack, critical tasks), in time linear in tasks
 * plus dependencies.
 */

/** A task as the schedule sees it: its duration in days (0 for a milestone). */
export interface ScheduledTask {
  readonly id: string;
  readonly durationDays: number;
}

/** `successor` may start only once `predecessor` has finished (finish-to-start). */
export interface Dependency {
  readonly predecessor: string;
  readonly successor: string;
}

/** Where a task can sit in the project, in days from the project start. */
export interface TaskTiming {
  readonly earliestStart: number;
  readonly earliestFinish: number;
  readonly latestStart: number;
  readonly latestFinish: number;
  /** How far it can slip without moving the project's end. */
  readonly slack: number;
  /** On a critical path: no slack. */
  readonly critical: boolean;
}

/** The critical path method's result for one project. */
export interface CriticalPathResult {
  /** The project's length in days: the longest chain of durations. */
  readonly durationDays: number;
  readonly timings: ReadonlyMap<string, TaskTiming>;
  /** One longest chain, first task first. */
  readonly criticalPath: ReadonlyArray<string>;
}

/** The dependencies close a loop; `cycle` lists its tasks in order, the first repeated at the end. */
export class DependencyCycleError extends Error {
  readonly cycle: ReadonlyArray<string>;

  constructor(cycle: ReadonlyArray<string>) {
    super(`the dependencies form a cycle: ${cycle.join(' → ')}`);
    this.name = 'DependencyCycleError';
    this.cycle = cycle;
  }
}

/** The schedule references a task it was not given, or a duration that is not a finite number of days ≥ 0. */
export class ScheduleInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleInputError';
  }
}

interface Graph {
  readonly ids: ReadonlyArray<string>;
  readonly durations: Float64Array;
  readonly successors: ReadonlyArray<number[]>;
  readonly predecessors: ReadonlyArray<number[]>;
}

function buildGraph(tasks: ReadonlyArray<ScheduledTask>, dependencies: ReadonlyArray<Dependency>): Graph {
  const index = new Map<string, number>();
  const ids: string[] = [];
  const durations = new Float64Array(tasks.length);
  for (const task of tasks) {
    if (index.has(task.id)) throw new ScheduleInputError(`task "${task.id}" is listed twice`);
    if (!Number.isFinite(task.durationDays) || task.durationDays < 0) {
      throw new ScheduleInputError(
        `task "${task.id}" has duration ${task.durationDays}; it must be a number of days ≥ 0`,
      );
    }
    durations[ids.length] = task.durationDays;
    index.set(task.id, ids.length);
    ids.push(task.id);
  }
  const successors = ids.map((): number[] => []);
  const predecessors = ids.map((): number[] => []);
  for (const { predecessor, successor } of dependencies) {
    const from = index.get(predecessor);
    const to = index.get(successor);
    if (from === undefined || to === undefined) {
      const missing = from === undefined ? predecessor : successor;
      throw new ScheduleInputError(
        `a dependency ${predecessor} → ${successor} names "${missing}", which is not a task`,
      );
    }
    (successors[from] as number[]).push(to);
    (predecessors[to] as number[]).push(from);
  }
  return { ids, durations, successors, predecessors };
}

/** Kahn's algorithm: the tasks in an order where every predecessor comes first, or undefined on a cycle. */
function topologicalOrder(graph: Graph): Int32Array | undefined {
  const count = graph.ids.length;
  const waiting = new Int32Array(count);
  for (let task = 0; task < count; task++) waiting[task] = (graph.predecessors[task] as number[]).length;
  const order = new Int32Array(count);
  let head = 0;
  let tail = 0;
  for (let task = 0; task < count; task++) if (waiting[task] === 0) order[tail++] = task;
  while (head < tail) {
    const task = order[head++] as number;
    for (const next of graph.successors[task] as number[]) {
      waiting[next] = (waiting[next] as number) - 1;
      if (waiting[next] === 0) order[tail++] = next;
    }
  }
  return tail === count ? order : undefined;
}

/** One cycle among the tasks Kahn's algorithm could not order (iterative DFS; every such task leads into a cycle). */
function cycleIn(graph: Graph): string[] {
  const count = graph.ids.length;
  const state = new Uint8Array(count); // 0 unvisited, 1 on the stack, 2 done
  const parent = new Int32Array(count).fill(-1);
  for (let root = 0; root < count; root++) {
    if (state[root] !== 0) continue;
    const stack: Array<[task: number, next: number]> = [[root, 0]];
    state[root] = 1;
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as [number, number];
      const [task, next] = frame;
      const successors = graph.successors[task] as number[];
      if (next >= successors.length) {
        state[task] = 2;
        stack.pop();
        continue;
      }
      frame[1] = next + 1;
      const to = successors[next] as number;
      if (state[to] === 1) {
        const cycle = [graph.ids[to] as string];
        for (let at = task; at !== to; at = parent[at] as number) cycle.push(graph.ids[at] as string);
        cycle.push(graph.ids[to] as string);
        return cycle.slice(0, 1).concat(cycle.slice(1, -1).reverse(), cycle.slice(-1));
      }
      if (state[to] === 0) {
        state[to] = 1;
        parent[to] = task;
        stack.push([to, 0]);
      }
    }
  }
  return [];
}

/**
 * The cycle that adding `candidate` to `dependencies` would close, or undefined when it keeps the graph acyclic: a
 * path from the candidate's successor back to its predecessor.
 *
 * @example
 * ```ts
 * findCycle([{ predecessor: 'a', successor: 'b' }], { predecessor: 'b', successor: 'a' }); // ['a', 'b', 'a']
 * ```
 */
export function findCycle(
  dependencies: ReadonlyArray<Dependency>,
  candidate: Dependency,
): ReadonlyArray<string> | undefined {
  if (candidate.predecessor === candidate.successor) return [candidate.predecessor, candidate.predecessor];
  const successors = new Map<string, string[]>();
  for (const { predecessor, successor } of dependencies) {
    const list = successors.get(predecessor);
    if (list === undefined) successors.set(predecessor, [successor]);
    else list.push(successor);
  }
  // Breadth-first from the candidate's successor: a path to its predecessor closes the loop.
  const parent = new Map<string, string>([[candidate.successor, candidate.successor]]);
  const queue = [candidate.successor];
  for (let at = 0; at < queue.length; at++) {
    const task = queue[at] as string;
    if (task === candidate.predecessor) {
      const path = [task];
      for (let step = task; step !== candidate.successor; step = parent.get(step) as string) {
        path.push(parent.get(step) as string);
      }
      path.reverse();
      return [candidate.predecessor, ...path];
    }
    for (const next of successors.get(task) ?? []) {
      if (parent.has(next)) continue;
      parent.set(next, task);
      queue.push(next);
    }
  }
  return undefined;
}

/**
 * Runs the critical path method: a forward pass for earliest start and finish, a backward pass for latest start
 * and finish, slack as their difference, and one longest chain. Linear in tasks plus dependencies.
 *
 * @throws {@link DependencyCycleError} naming a cycle; {@link ScheduleInputError} for unknown tasks, duplicates or
 * bad durations.
 * @example
 * ```ts
 * const { durationDays, criticalPath } = criticalPath(
 *   [{ id: 'design', durationDays: 3 }, { id: 'build', durationDays: 5 }, { id: 'docs', durationDays: 1 }],
 *   [{ predecessor: 'design', successor: 'build' }, { predecessor: 'design', successor: 'docs' }],
 * ); // 8, ['design', 'build']
 * ```
 */
export function criticalPath(
  tasks: ReadonlyArray<ScheduledTask>,
  dependencies: ReadonlyArray<Dependency>,
): CriticalPathResult {
  const graph = buildGraph(tasks, dependencies);
  const order = topologicalOrder(graph);
  if (order === undefined) throw new DependencyCycleError(cycleIn(graph));
  const count = graph.ids.length;
  const earliestStart = new Float64Array(count);
  const earliestFinish = new Float64Array(count);
  const latestFinish = new Float64Array(count);
  let durationDays = 0;
  for (const task of order) {
    let start = 0;
    for (const before of graph.predecessors[task] as number[])
      start = Math.max(start, earliestFinish[before] as number);
    earliestStart[task] = start;
    earliestFinish[task] = start + (graph.durations[task] as number);
    durationDays = Math.max(durationDays, earliestFinish[task] as number);
  }
  for (let at = count - 1; at >= 0; at--) {
    const task = order[at] as number;
    let finish = durationDays;
    for (const after of graph.successors[task] as number[]) {
      finish = Math.min(finish, (latestFinish[after] as number) - (graph.durations[after] as number));
    }
    latestFinish[task] = finish;
  }
  const timings = new Map<string, TaskTiming>();
  for (let task = 0; task < count; task++) {
    const latestStart = (latestFinish[task] as number) - (graph.durations[task] as number);
    const slack = latestStart - (earliestStart[task] as number);
    timings.set(graph.ids[task] as string, {
      earliestStart: earliestStart[task] as number,
      earliestFinish: earliestFinish[task] as number,
      latestStart,
      latestFinish: latestFinish[task] as number,
      slack,
      critical: Math.abs(slack) < 1e-9,
    });
  }
  return {
    durationDays,
    timings,
    criticalPath: longestChain(graph, order, earliestStart, earliestFinish, durationDays),
  };
}

/** One chain of critical tasks from a start to the project's end, walked back from a task that ends last. */
function longestChain(
  graph: Graph,
  order: Int32Array,
  earliestStart: Float64Array,
  earliestFinish: Float64Array,
  durationDays: number,
): string[] {
  if (order.length === 0) return [];
  let task = -1;
  for (const candidate of order)
    if (Math.abs((earliestFinish[candidate] as number) - durationDays) < 1e-9) task = candidate;
  const chain: string[] = [];
  while (task >= 0) {
    chain.push(graph.ids[task] as string);
    let previous = -1;
    for (const before of graph.predecessors[task] as number[]) {
      if (Math.abs((earliestFinish[before] as number) - (earliestStart[task] as number)) < 1e-9)
        previous = before;
    }
    task = previous;
  }
  return chain.reverse();
}
