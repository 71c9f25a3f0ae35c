import { describe, expect, it } from 'vitest';
import { ChatScheduler } from '../../telegram/chat-scheduler.ts';

// The door's scheduler on its own: in order within a chat, concurrent across chats up to the
// limit, a flooding chat's extra jobs dropped, back-pressure on the caller, a graceful idle.

/** A job that runs until released, recording when it started and ended. */
function gate() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  return { release, released };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ChatScheduler', () => {
  it('runs one chat’s jobs one at a time, in the order they came', async () => {
    const scheduler = new ChatScheduler({ concurrency: 8, maxPending: 100, maxQueuedPerChat: 20 });
    const log: string[] = [];
    const gates = [gate(), gate(), gate()];
    for (const [i, g] of gates.entries()) {
      void scheduler.schedule('chat:1', async () => {
        log.push(`start ${i}`);
        await g.released;
        log.push(`end ${i}`);
      });
    }
    await tick();
    expect(log).toEqual(['start 0']);
    // Released out of order: the second job still waits for the first.
    gates[2]!.release();
    gates[1]!.release();
    await tick();
    expect(log).toEqual(['start 0']);
    gates[0]!.release();
    expect(await scheduler.idle(1_000)).toBe(true);
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('runs different chats at once, never more than `concurrency`', async () => {
    const scheduler = new ChatScheduler({ concurrency: 2, maxPending: 100, maxQueuedPerChat: 20 });
    let running = 0;
    let most = 0;
    const gates = Array.from({ length: 5 }, () => gate());
    for (const [i, g] of gates.entries()) {
      void scheduler.schedule(`chat:${i}`, async () => {
        running++;
        most = Math.max(most, running);
        await g.released;
        running--;
      });
    }
    await tick();
    expect(running).toBe(2);
    for (const g of gates) g.release();
    expect(await scheduler.idle(1_000)).toBe(true);
    expect(most).toBe(2);
    expect(running).toBe(0);
  });

  it('drops a flooding chat’s jobs beyond `maxQueuedPerChat`, and takes its jobs again once it drained', async () => {
    const scheduler = new ChatScheduler({ concurrency: 8, maxPending: 100, maxQueuedPerChat: 3 });
    const ran: number[] = [];
    const first = gate();
    const taken = Array.from({ length: 5 }, (_, i) =>
      scheduler.schedule('chat:flood', async () => {
        if (i === 0) await first.released;
        ran.push(i);
      }),
    );
    expect(taken).toEqual([true, true, true, false, false]);
    // Another chat is not affected.
    expect(scheduler.schedule('chat:calm', async () => void ran.push(100))).toBe(true);
    first.release();
    expect(await scheduler.idle(1_000)).toBe(true);
    expect(ran.sort((a, b) => a - b)).toEqual([0, 1, 2, 100]);
    expect(scheduler.schedule('chat:flood', async () => void ran.push(5))).toBe(true);
    expect(await scheduler.idle(1_000)).toBe(true);
    expect(ran).toContain(5);
  });

  it('is `full` at `maxPending` jobs in hand; `room()` resolves when one settles', async () => {
    const scheduler = new ChatScheduler({ concurrency: 1, maxPending: 2, maxQueuedPerChat: 20 });
    const gates = [gate(), gate()];
    scheduler.schedule('chat:1', () => gates[0]!.released);
    expect(scheduler.full).toBe(false);
    scheduler.schedule('chat:2', () => gates[1]!.released);
    expect(scheduler.full).toBe(true);
    expect(scheduler.inFlight).toBe(2);
    let roomy = false;
    const waiting = (async () => {
      while (scheduler.full) await scheduler.room();
      roomy = true;
    })();
    await tick();
    expect(roomy).toBe(false);
    gates[0]!.release();
    await waiting;
    expect(roomy).toBe(true);
    expect(scheduler.full).toBe(false);
    gates[1]!.release();
    expect(await scheduler.idle(1_000)).toBe(true);
    expect(scheduler.inFlight).toBe(0);
  });

  it('a job that throws is reported to its `settled` callback and the chat goes on', async () => {
    const scheduler = new ChatScheduler({ concurrency: 8, maxPending: 100, maxQueuedPerChat: 20 });
    const outcomes: unknown[] = [];
    const ran: string[] = [];
    scheduler.schedule(
      'chat:1',
      async () => {
        throw new Error('boom');
      },
      (outcome) => outcomes.push(outcome.ok ? 'ok' : (outcome.error as Error).message),
    );
    scheduler.schedule(
      'chat:1',
      async () => void ran.push('after'),
      (outcome) => outcomes.push(outcome.ok ? 'ok' : 'failed'),
    );
    expect(await scheduler.idle(1_000)).toBe(true);
    expect(outcomes).toEqual(['boom', 'ok']);
    expect(ran).toEqual(['after']);
  });

  it('`settled` runs before `idle()` reports the job done', async () => {
    const scheduler = new ChatScheduler({ concurrency: 8, maxPending: 100, maxQueuedPerChat: 20 });
    let settled = false;
    scheduler.schedule(
      'chat:1',
      async () => {},
      () => (settled = true),
    );
    expect(await scheduler.idle(1_000)).toBe(true);
    expect(settled).toBe(true);
  });

  it('`idle(ms)` gives up after `ms` while a job still runs', async () => {
    const scheduler = new ChatScheduler({ concurrency: 8, maxPending: 100, maxQueuedPerChat: 20 });
    const stuck = gate();
    scheduler.schedule('chat:1', () => stuck.released);
    const started = Date.now();
    expect(await scheduler.idle(50)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(scheduler.inFlight).toBe(1);
    stuck.release();
    expect(await scheduler.idle(1_000)).toBe(true);
  });
});
