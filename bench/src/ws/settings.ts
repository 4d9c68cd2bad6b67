/**
 * Sizes of each part, chosen so that the whole group (four contenders) takes under 4 minutes on a 2-core machine.
 * A fan-out level's window (broadcasts not yet received by every client) is large enough that a client's socket
 * usually holds several frames per read, as under real load, and small enough (at most 100 frames, 24 KB, per
 * connection) that no library's send-queue limits come into play.
 */
export const WS_SETTINGS = {
  fanout: {
    runs: 3,
    levels: [
      { clients: 200, broadcasts: 750, window: 100 },
      { clients: 2_000, broadcasts: 50, window: 20 },
    ],
  },
  latency: { clients: 200, ratePerSec: 500, durationMs: 2_000, runs: 3 },
  memory: { clients: 10_000, warmClients: 100, settleMs: 1_000, runs: 2 },
} as const;

/** What the notes say about the rounds of a part. */
export function roundsNote(runs: number): string {
  return `R = ${runs} interleaved runs after 1 warm-up (median shown)`;
}
