import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { WS_CONTENDERS, type WsContender } from './contenders';
import { fanoutPart } from './fanout-part';
import { latencyPart } from './latency-part';
import { memoryPart } from './memory-part';
import { eventData, eventFrame, rawEnvelope } from './ws-event';

/** The parts of the WebSocket benchmark, selectable as `ws/<part>`. */
export const WS_PARTS = ['fanout', 'latency', 'memory'] as const;

/** One part of the WebSocket benchmark. */
export type WsPart = (typeof WS_PARTS)[number];

type Log = (message: string) => void;

const PARTS: Record<WsPart, (contenders: ReadonlyArray<WsContender>, log: Log) => Promise<string>> = {
  fanout: fanoutPart,
  latency: latencyPart,
  memory: memoryPart,
};

function versionOf(name: string): string {
  return (createRequire(import.meta.url)(`${name}/package.json`) as { version: string }).version;
}

/** What every part shares: versions, the event, the contenders, and how they run. */
function intro(contenders: ReadonlyArray<WsContender>): string {
  const envelope = JSON.stringify(rawEnvelope(eventData(1, 999)));
  const frame = JSON.stringify(eventFrame(JSON.parse(envelope)));
  const packet = `42["event",${envelope}]`;
  return [
    `### WebSocket fan-out: relaybus ws-bridge vs raw \`ws\` ${versionOf('ws')} and Socket.IO ${versionOf('socket.io')}`,
    '',
    `Every contender broadcasts the same event to every connected client: a relaybus envelope of about ` +
      `${envelope.length} bytes of JSON, sent by raw \`ws\` and the ws-bridge in the bridge's event frame ` +
      `(\`{"type":"event","event":…}\`, ${frame.length} bytes) and by Socket.IO in its packet (\`42["event",…]\`, ` +
      `${packet.length} bytes). Each server runs in a Node process of its own; its clients are in separate ` +
      'load-generator processes (`ws` clients, speaking the bridge protocol `relaybus.v1` with one subscription to ' +
      '`#` for relaybus; `socket.io-client` on the WebSocket transport only), which parse every frame as JSON. Runs ' +
      'are interleaved (one run of each contender per round, rotating who starts); a full GC runs in every process ' +
      `before each run. Node ${process.version} on ${availableParallelism()} CPUs, shared by the server and the ` +
      'load generators (and by whatever else runs on the machine: compare within a table).',
    '',
    ...contenders.map(({ name, describe }) => `- ${name}: ${describe}.`),
  ].join('\n');
}

/** Runs the given parts of the WebSocket benchmark in order, printing each part's section as it completes. */
export async function runWsBench(
  parts: ReadonlySet<WsPart>,
  log: Log,
  print: (section: string) => void,
): Promise<void> {
  print(intro(WS_CONTENDERS));
  for (const part of WS_PARTS) if (parts.has(part)) print(await PARTS[part](WS_CONTENDERS, log));
}
