import { describe, expect, it } from 'vitest';
import { canonicalRecord, chainLink } from './chain.js';
import { ChainChecker, checkpointHeadsJson } from './chain-check.js';
import type { EventRecord } from './records.js';
import { makeTextRecord } from './test-records.js';

const chatKey = '15550001111:447700900123';

/** Events 1..n of one conversation with correct links, as ingest writes them. */
function chain(n: number): EventRecord[] {
  const events: EventRecord[] = [];
  let previous = '';
  for (let seq = 1; seq <= n; seq += 1) {
    const record = { ...makeTextRecord(`message ${seq}`, { seq, waMessageId: `wamid.${seq}` }), chainHash: '' };
    record.chainHash = chainLink(previous, canonicalRecord(chatKey, record));
    previous = record.chainHash;
    events.push(record);
  }
  return events;
}

function check(events: EventRecord[], lastSeq: number, head: string, pins: Array<{ seq: number; head: string; checkpointId: number }> = []) {
  const checker = new ChainChecker(chatKey, pins);
  for (const event of events) checker.add(event);
  return checker.finish(lastSeq, head);
}

describe('ChainChecker', () => {
  it('finds nothing wrong in a chain as ingest wrote it', () => {
    const events = chain(5);
    expect(check(events, 5, events[4]!.chainHash, [{ seq: 3, head: events[2]!.chainHash, checkpointId: 1 }])).toEqual([]);
  });

  it('names the one event whose content changed, and no other', () => {
    const events = chain(5);
    const changed = events.map((e) => (e.seq === 3 ? { ...e, event: { ...e.event, content: { type: 'text', body: 'message 3!' } } } as EventRecord : e));
    const problems = check(changed, 5, events[4]!.chainHash);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ kind: 'link_mismatch', seq: 3, waMessageId: 'wamid.3' });
    expect(problems[0]!.detail).toMatch(/still leads on to event 4, so the link is as written and the record itself .* was changed$/);
  });

  it('says the record changed when the last event was altered and its link is still the head', () => {
    const events = chain(3);
    const changed = events.map((e) => (e.seq === 3 ? { ...e, direction: 'outbound' } as EventRecord : e));
    const problems = check(changed, 3, events[2]!.chainHash);
    expect(problems).toEqual([expect.objectContaining({ kind: 'link_mismatch', seq: 3, detail: expect.stringMatching(/still the conversation's chain head, so the link is as written and the record itself/) })]);
  });

  it('says the link changed when a stored link was replaced, naming that event first', () => {
    const events = chain(4);
    const relinked = events.map((e) => (e.seq === 2 ? { ...e, chainHash: 'f'.repeat(64) } : e));
    const problems = check(relinked, 4, events[3]!.chainHash);
    expect(problems.map((p) => [p.kind, p.seq])).toEqual([
      ['link_mismatch', 2],
      ['link_mismatch', 3],
    ]);
    expect(problems[0]!.detail).toMatch(/event 3 chains on from the link this record gives, not from the stored one, so the stored link was replaced$/);
    expect(problems[1]!.detail).toMatch(/only because the stored link of event 2 was replaced; this event is as written$/);
  });

  it('says more than one event changed when neither link explains the next event', () => {
    const events = chain(4);
    const both = events.map((e) => (e.seq === 2 ? { ...e, chainHash: 'f'.repeat(64) } : e.seq === 3 ? { ...e, timestamp: e.timestamp + 1 } : e));
    const problems = check(both, 4, events[3]!.chainHash);
    expect(problems[0]!.detail).toMatch(/event 3 chains on from neither its stored link nor the one its record gives, so more than this event was changed$/);
  });

  it('names an event whose time was moved', () => {
    const events = chain(3);
    const moved = events.map((e) => (e.seq === 2 ? { ...e, timestamp: e.timestamp + 1000 } : e));
    expect(check(moved, 3, events[2]!.chainHash)[0]).toMatchObject({ kind: 'link_mismatch', seq: 2 });
  });

  it('names a gap where an event was removed', () => {
    const events = chain(5).filter((e) => e.seq !== 2);
    const problems = check(events, 5, events.at(-1)!.chainHash);
    expect(problems[0]).toMatchObject({ kind: 'missing_event', seq: 2 });
  });

  it('notices a cut-off end, by the count and by the head', () => {
    const events = chain(4);
    expect(check(events.slice(0, 3), 4, events[3]!.chainHash)[0]).toMatchObject({ kind: 'missing_event', seq: 4 });
    expect(check(events.slice(0, 3), 3, events[3]!.chainHash)[0]).toMatchObject({ kind: 'head_mismatch', seq: 3 });
  });

  it('catches a cut-off end that was tidied up, through the checkpoint that signed the old end', () => {
    const events = chain(4);
    const pins = [{ seq: 4, head: events[3]!.chainHash, checkpointId: 7 }];
    const problems = check(events.slice(0, 3), 3, events[2]!.chainHash, pins);
    expect(problems).toEqual([expect.objectContaining({ kind: 'checkpoint_event_missing', seq: 4, detail: expect.stringContaining('checkpoint 7') })]);
  });

  it('catches a chain rebuilt with fresh links after a change, through the signed head', () => {
    const events = chain(3);
    const rebuilt: EventRecord[] = [];
    let previous = '';
    for (const e of events) {
      const record = e.seq === 2 ? { ...e, event: { ...e.event, content: { type: 'text', body: 'rewritten' } } } as EventRecord : { ...e };
      record.chainHash = chainLink(previous, canonicalRecord(chatKey, record));
      previous = record.chainHash;
      rebuilt.push(record);
    }
    const problems = check(rebuilt, 3, previous, [{ seq: 3, head: events[2]!.chainHash, checkpointId: 2 }]);
    expect(problems).toEqual([expect.objectContaining({ kind: 'checkpoint_mismatch', seq: 3 })]);
  });
});

describe('checkpointHeadsJson', () => {
  it('is the same text whatever order the heads come in', () => {
    const a = { conversationId: 1, chatKey: 'a', seq: 2, head: 'x' };
    const b = { conversationId: 2, chatKey: 'b', seq: 5, head: 'y' };
    expect(checkpointHeadsJson([b, a])).toBe(checkpointHeadsJson([a, b]));
    expect(checkpointHeadsJson([a, b])).toBe('[{"chatKey":"a","conversationId":1,"head":"x","seq":2},{"chatKey":"b","conversationId":2,"head":"y","seq":5}]');
  });
});
