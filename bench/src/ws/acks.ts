import { connect, createServer, type Socket } from 'node:net';

/**
 * Acks of fan-out runs, from the load generators straight to the server process over TCP: a line
 * `<run> <broadcasts>` says that every client of that load generator received the first `<broadcasts>` broadcasts
 * of the run. The server keeps a window of broadcasts not yet acked, so that no library's send buffers grow
 * without bound (and relaybus's slow-consumer policy never fires) however fast the server goes.
 */
export class AckReceiver {
  private readonly acked = new Map<Socket, number>();
  private run = -1;
  private onProgress: ((acked: number) => void) | undefined;

  private constructor(readonly port: number) {}

  /** Listens on a free port of 127.0.0.1. */
  static async listen(): Promise<AckReceiver> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('ack server: no port');
    const receiver = new AckReceiver(address.port);
    server.on('connection', (socket) => receiver.accept(socket));
    return receiver;
  }

  /**
   * Starts counting the acks of `run`: `onProgress` gets the broadcasts every load generator acked, each time that
   * number grows.
   * @throws when no load generator is connected to ack.
   */
  expect(run: number, onProgress: (acked: number) => void): void {
    if (this.acked.size === 0) throw new Error('no load generator connected to the ack port');
    this.run = run;
    this.onProgress = onProgress;
    for (const socket of this.acked.keys()) this.acked.set(socket, 0);
  }

  /** Stops reporting progress (the run is over). */
  stop(): void {
    this.onProgress = undefined;
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    this.acked.set(socket, 0);
    let pending = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) this.receive(socket, line);
    });
    socket.on('close', () => this.acked.delete(socket));
    socket.on('error', () => this.acked.delete(socket));
  }

  private receive(socket: Socket, line: string): void {
    const [run, count] = line.split(' ').map(Number);
    if (run !== this.run || count === undefined) return;
    const before = Math.min(...this.acked.values());
    this.acked.set(socket, count);
    const after = Math.min(...this.acked.values());
    if (after > before) this.onProgress?.(after);
  }
}

/** The load generator's side: sends the latest count once per event-loop turn at most. */
export class AckSender {
  private latest: string | undefined;

  private constructor(private readonly socket: Socket) {}

  static async connect(port: number): Promise<AckSender> {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new AckSender(socket);
  }

  /** Every client received the first `broadcasts` broadcasts of `run`. */
  send(run: number, broadcasts: number): void {
    if (this.latest === undefined) setImmediate(() => this.flush());
    this.latest = `${run} ${broadcasts}\n`;
  }

  close(): void {
    this.socket.destroy();
  }

  private flush(): void {
    if (this.latest !== undefined) this.socket.write(this.latest);
    this.latest = undefined;
  }
}
