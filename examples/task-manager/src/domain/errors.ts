/** Something the caller asked for does not exist, or is not theirs to see (both answer 404: no existence leak). */
export class NotFoundError extends Error {
  readonly status = 404;
  constructor(what: string) {
    super(`${what} not found`);
    this.name = 'NotFoundError';
  }
}

/** An edit carried a version that is no longer current (`If-Match`): 412, with the current version. */
export class StaleVersionError extends Error {
  readonly status = 412;
  constructor(
    readonly taskId: string,
    readonly expected: number,
    readonly current: number,
  ) {
    super(`task ${taskId} is at version ${current}, not ${expected}: reload it and apply your change again`);
    this.name = 'StaleVersionError';
  }
}

/** The change contradicts the current state (a dependency cycle, a duplicate): 409. */
export class ConflictError extends Error {
  readonly status = 409;
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ConflictError';
  }
}
