/**
 * Where a projection writes: the live read model, plus a way to build a replacement aside and swap it in, so that
 * readers never see a half-built model during a rebuild. The model itself lives wherever the application wants
 * (a `Map`, a table, a search index); `memoryReadModel()` is the in-memory implementation.
 *
 * @example
 * ```ts
 * // A Postgres read model: rebuild into a shadow table, then swap the tables in one transaction.
 * const model: ReadModel<string> = {
 *   live: 'task_board',
 *   beginRebuild: async () => { await sql`create table task_board_next (like task_board)`; return 'task_board_next'; },
 *   commitRebuild: async () => { await swapTables('task_board', 'task_board_next'); },
 *   abortRebuild: async () => { await sql`drop table task_board_next`; },
 * };
 * ```
 */
export interface ReadModel<TModel> {
  /** The instance handlers write to normally. Read on every batch, so it may change after `commitRebuild`. */
  readonly live: TModel;
  /** Returns a fresh, empty instance to rebuild into, while `live` stays as it is. */
  beginRebuild(): TModel | Promise<TModel>;
  /** Makes the rebuilt instance the live one. Called once every event up to the checkpoint is in it. */
  commitRebuild(next: TModel): void | Promise<void>;
  /** Discards a rebuilt instance after a failed or cancelled rebuild. */
  abortRebuild?(next: TModel): void | Promise<void>;
}
