const gc = (globalThis as { gc?: () => void }).gc;

/** Whether the process runs with `--expose-gc`, so runs can start from a collected heap. */
export const canCollectGarbage = typeof gc === 'function';

/** Runs a full garbage collection when `--expose-gc` is on; otherwise does nothing. */
export function collectGarbage(): void {
  gc?.();
}
