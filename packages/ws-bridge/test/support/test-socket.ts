import WebSocket from 'ws';
import { BEARER_PREFIX, type ServerMessage, SUBPROTOCOL } from '../../src/protocol';

/** Every frame of one type the server sends, by its `type`. */
type Of<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

/**
 * A raw protocol client for the server tests: records every frame and close, and waits for frames that match.
 */
export class TestSocket {
  readonly ws: WebSocket;
  readonly frames: ServerMessage[] = [];
  closed: { code: number; reason: string } | undefined;
  readonly #waiters = new Set<() => void>();

  constructor(
    url: string,
    options: {
      token?: string;
      protocols?: string[];
      headers?: Record<string, string>;
      autoPong?: boolean;
    } = {},
  ) {
    const protocols = options.protocols ?? [
      SUBPROTOCOL,
      ...(options.token ? [`${BEARER_PREFIX}${options.token}`] : []),
    ];
    this.ws = new WebSocket(url, protocols, {
      ...(options.headers ? { headers: options.headers } : {}),
      autoPong: options.autoPong ?? true,
    });
    this.ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as ServerMessage);
      this.#wake();
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.#wake();
    });
    this.ws.on('error', () => this.#wake());
  }

  static async open(url: string, token = 'alice', extra: { autoPong?: boolean } = {}): Promise<TestSocket> {
    const socket = new TestSocket(url, { token, ...extra });
    await socket.next('welcome');
    return socket;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Waits until `check` holds (re-checked on every frame and close). */
  async until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out waiting for ${what}; frames: ${JSON.stringify(this.frames.slice(-5))}; closed: ${JSON.stringify(this.closed)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.#waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The first frame of this type (and matching `where`) not yet taken by `next`. */
  async next<T extends ServerMessage['type']>(
    type: T,
    where: (frame: Of<T>) => boolean = () => true,
    timeoutMs = 5_000,
  ): Promise<Of<T>> {
    let found: Of<T> | undefined;
    await this.until(
      () => {
        const index = this.frames.findIndex(
          (frame) => frame.type === type && !this.#taken.has(frame) && where(frame as Of<T>),
        );
        if (index < 0) return false;
        found = this.frames[index] as Of<T>;
        this.#taken.add(found);
        return true;
      },
      `a "${type}" frame`,
      timeoutMs,
    );
    return found as Of<T>;
  }

  /** Events received, in order. */
  events(sub?: string): Array<Of<'event'>> {
    return this.frames.filter(
      (frame): frame is Of<'event'> =>
        frame.type === 'event' && (sub === undefined || frame.sub === sub || frame.sub === undefined),
    );
  }

  async waitClosed(timeoutMs = 5_000): Promise<{ code: number; reason: string }> {
    await this.until(() => this.closed !== undefined, 'the connection to close', timeoutMs);
    return this.closed as { code: number; reason: string };
  }

  close(): void {
    this.ws.close();
  }

  readonly #taken = new WeakSet<object>();

  #wake(): void {
    for (const waiter of this.#waiters) waiter();
    this.#waiters.clear();
  }
}
