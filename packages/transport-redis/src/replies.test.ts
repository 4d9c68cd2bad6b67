import { describe, expect, it } from 'vitest';
import { IncompatibleClientError } from './errors';
import {
  parseEntries,
  parsePendingRows,
  parsePendingSummary,
  parseScriptArray,
  parseStreamRead,
} from './replies';

const ENTRIES_A = [['1-0', ['v', '1', 'i', 'a']]];
const ENTRIES_B = [
  ['2-0', ['v', '1', 'i', 'b']],
  ['3-0', null],
];
const READ = [
  { stream: 's:0', entries: [{ id: '1-0', fields: ['v', '1', 'i', 'a'] }] },
  {
    stream: 's:1',
    entries: [
      { id: '2-0', fields: ['v', '1', 'i', 'b'] },
      { id: '3-0', fields: null },
    ],
  },
];

describe('reply readers', () => {
  it('read XREADGROUP in every shape the supported clients produce', () => {
    // ioredis 5, and ioredis 6 with protocol 2, or protocol 3 with replyMapping 'legacy' from 6.1 on.
    expect(
      parseStreamRead([
        ['s:0', ENTRIES_A],
        ['s:1', ENTRIES_B],
      ]),
    ).toEqual(READ);
    // ioredis 6.0 with protocol 3 and replyMapping 'legacy': the map flattened into one list.
    expect(parseStreamRead(['s:0', ENTRIES_A, 's:1', ENTRIES_B])).toEqual(READ);
    expect(parseStreamRead(['s:0', ENTRIES_A])).toEqual(READ.slice(0, 1));
    // ioredis 6 with replyMapping 'resp3': the map as a plain object.
    expect(parseStreamRead({ 's:0': ENTRIES_A, 's:1': ENTRIES_B })).toEqual(READ);
    // Nothing arrived before the block timed out.
    expect(parseStreamRead(null)).toEqual([]);
    expect(parseStreamRead([])).toEqual([]);
  });

  it('refuse every other shape with an IncompatibleClientError naming the command and the reply', () => {
    const odd: unknown[] = [
      new Map([['s:0', ENTRIES_A]]),
      'OK',
      7,
      ['s:0'],
      [['s:0', ENTRIES_A, 'extra']],
      [['s:0', 'not entries']],
      [[7, ENTRIES_A]],
      { 's:0': [['1-0', 'not fields']] },
      [['s:0', [[1, ['v', '1']]]]],
    ];
    for (const reply of odd) {
      let error: unknown;
      try {
        parseStreamRead(reply);
      } catch (caught) {
        error = caught;
      }
      expect(error, JSON.stringify(reply)).toBeInstanceOf(IncompatibleClientError);
      expect(error).toMatchObject({ code: 'INCOMPATIBLE_CLIENT', command: 'XREADGROUP' });
      expect((error as Error).message).toMatch(
        /reply to XREADGROUP was not recognised .*\^5\.4\.0 and \^6\.0\.0/,
      );
    }
  });

  it('read XCLAIM entries, XPENDING rows and summaries, and script tables', () => {
    expect(parseEntries('XCLAIM', ENTRIES_B)).toEqual(READ[1]?.entries);
    expect(() => parseEntries('XCLAIM', { '2-0': [] })).toThrow(IncompatibleClientError);
    expect(
      parsePendingRows([
        ['1-0', 'member-a', 5, 2],
        ['2-0', 'member-b', '7', '1'],
      ]),
    ).toEqual([
      { id: '1-0', consumer: 'member-a', idleMs: 5, deliveries: 2 },
      { id: '2-0', consumer: 'member-b', idleMs: 7, deliveries: 1 },
    ]);
    expect(() => parsePendingRows([{ id: '1-0' }])).toThrow(IncompatibleClientError);
    expect(
      parsePendingSummary([
        3,
        '1-0',
        '3-0',
        [
          ['a', '2'],
          ['b', 1],
        ],
      ]),
    ).toEqual({
      count: 3,
      consumers: [
        { name: 'a', count: 2 },
        { name: 'b', count: 1 },
      ],
    });
    expect(parsePendingSummary([0, null, null, null])).toEqual({ count: 0, consumers: [] });
    expect(() => parsePendingSummary({ count: 0 })).toThrow(IncompatibleClientError);
    expect(parseScriptArray('lease', [1, 2])).toEqual([1, 2]);
    expect(() => parseScriptArray('lease', { 1: 2 })).toThrow(/EVALSHA \(lease\)/);
  });
});
