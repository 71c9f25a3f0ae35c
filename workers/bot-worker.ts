import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Database } from '../db/index.ts';
import type { Logger } from '../observability/index.ts';
import {
  claimTickSlots,
  markBotsTicked,
  openPositionsOf,
  runningBots,
  StaleOwnerError,
  takeOverBot,
  type BotRunner,
  type RunningBot,
  type TickOptions,
} from '../trading/index.ts';
import type { BotLocks } from './locks.ts';
import { systemClock, type Clock, type ClockTimer } from '../clock/index.ts';

/** How far (in slots) a worker may fall behind before it skips to the present. */
const MAX_LAG_SLOTS = 3;

/** At most this many bots are handed back per round when a worker holds more than its share. */
const REBALANCE_PER_ROUND = 25;

/** Bots whose slots are claimed, and positions read, by one statement each. */
const TICK_BATCH = 500;

export interface BotWorkerOptions {
  readonly db: Database;
  readonly locks: BotLocks;
  /** Unique per process; also the lock token. */
  readonly workerId: string;
  /** Each running bot is ticked once per interval (slot), by its owner. */
  readonly intervalMs: number;
  readonly lockTtlMs: number;
  /** Bots ticked at the same time within a round (they wait on the database and the exchange). */
  readonly concurrency?: number;
  /** Builds the runner for a bot this worker just took, fenced by `epoch`. */
  runnerFor(bot: RunningBot, epoch: number): Promise<BotRunner>;
  readonly logger: Logger;
  /** Called at the start of each round with its slot (tests move a replay clock with it). */
  readonly onRound?: (slotAt: number) => void;
  readonly onTakeover?: (botId: string) => void;
  readonly onLost?: (botId: string) => void;
  readonly onTick?: (botId: string, ok: boolean) => void;
  readonly onMissedSlots?: (count: number) => void;
  /** When the slots fall and the locks are renewed (tests move a ManualClock); the system clock by default. */
  readonly clock?: Clock;
}

interface Owned {
  readonly runner: BotRunner;
  readonly epoch: number;
}

/**
 * Owns a share of the running bots and ticks each once per interval. Ownership is a lock per
 * bot (TTL, renewed by heartbeat) plus an epoch in the bots row raised at every takeover:
 * the runner refuses to act for an older epoch, and each tick is written to bot_ticks under
 * (bot, slot) only while the epoch holds, so a slot is processed once whatever the number of
 * workers. A bot stays with its worker while it lives (its runner keeps indicator state).
 */
export class BotWorker {
  readonly #options: BotWorkerOptions;
  readonly #owned = new Map<string, Owned>();
  readonly #clock: Clock;
  #timer: ClockTimer | undefined;
  #renewTimer: ClockTimer | undefined;
  #round: Promise<unknown> = Promise.resolve();
  #stopped = true;
  /** Set by stop(): the round under way starts no further tick. */
  #stopping = false;
  #nextSlot: number | undefined;
  #inRound = false;

  constructor(options: BotWorkerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  get ownedBots(): readonly string[] {
    return [...this.#owned.keys()];
  }

  /** A scheduled round is under way (a test holds its manual clock still meanwhile). */
  get inRound(): boolean {
    return this.#inRound;
  }

  start(): void {
    this.#stopped = false;
    this.#stopping = false;
    // Announce this worker before its first round, so workers starting together share fairly.
    void this.#options.locks.heartbeat().catch(() => {});
    this.#schedule();
    this.#scheduleRenewal();
  }

  /** Renews the locks every third of their TTL, between rounds too (a long round must not lose them). */
  #scheduleRenewal(): void {
    if (this.#stopped) return;
    this.#renewTimer = this.#clock.setTimer(
      () => {
        void this.#renew()
          .catch((error) => this.#options.logger.warn({ err: error }, 'lock renewal failed'))
          .finally(() => this.#scheduleRenewal());
      },
      Math.max(200, Math.floor(this.#options.lockTtlMs / 3)),
    );
  }

  /**
   * Rounds follow the slots. A round that overruns its interval delays the next one instead of
   * skipping it (the slot is processed late, once); a worker more than MAX_LAG_SLOTS behind
   * jumps to the current slot and counts the slots it missed.
   */
  #schedule(): void {
    if (this.#stopped) return;
    const { intervalMs } = this.#options;
    const current = Math.floor(this.#clock.now() / intervalMs) * intervalMs;
    let next = this.#nextSlot ?? current + intervalMs;
    if (current - next > MAX_LAG_SLOTS * intervalMs) {
      this.#options.logger.warn(
        { worker: this.#options.workerId, missedSlots: (current - next) / intervalMs },
        'bot worker fell behind; skipping to the current slot',
      );
      this.#options.onMissedSlots?.((current - next) / intervalMs);
      next = current;
    }
    this.#nextSlot = next + intervalMs;
    this.#timer = this.#clock.setTimer(
      () => {
        this.#inRound = true;
        this.#round = this.round(next)
          .catch((error) => this.#options.logger.error({ err: error }, 'bot worker round failed'))
          .finally(() => {
            this.#inRound = false;
            this.#schedule();
          });
      },
      Math.max(0, next - this.#clock.now()),
    );
  }

  /** Renews this worker's locks; bots whose lock was lost are dropped at once. */
  async #renew(): Promise<void> {
    const ids = [...this.#owned.keys()];
    const kept = await this.#options.locks.renew(ids);
    for (const id of ids) if (!kept.has(id)) this.#drop(id, 'lock lost');
  }

  #drop(botId: string, reason: string): void {
    if (!this.#owned.delete(botId)) return;
    this.#options.logger.warn({ botId, reason, worker: this.#options.workerId }, 'stopped acting for a bot');
    this.#options.onLost?.(botId);
  }

  /** One slot: heartbeat, renew, share out the running bots, tick the owned ones once. */
  async round(slotAt: number): Promise<{ ticked: number; skipped: number }> {
    const { db, locks, workerId } = this.#options;
    this.#options.onRound?.(slotAt);
    const alive = await locks.heartbeat();
    await this.#renew();
    const running = await runningBots(db);
    // The rows this round works from; a bot taken below is replaced by its row with the new epoch.
    const rows = new Map(running.map((bot) => [bot.id, bot]));
    for (const id of [...this.#owned.keys()]) {
      if (!rows.has(id)) {
        this.#owned.delete(id);
        await locks.release(id);
      }
    }
    // A fair share: ceil(running / live workers); bots of a dead worker are free after its TTL.
    const share = Math.ceil(running.length / Math.max(1, alive));
    // Above its share (another worker joined), hand a few bots back each round for others to take.
    for (const id of [...this.#owned.keys()].slice(share + 1).slice(0, REBALANCE_PER_ROUND)) {
      this.#owned.delete(id);
      await locks.release(id);
    }
    for (const bot of shuffle(running.filter((b) => !this.#owned.has(b.id)))) {
      if (this.#owned.size >= share) break;
      if (!(await locks.acquire(bot.id))) continue;
      const taken = await takeOverBot(db, bot.id);
      if (!taken) {
        await locks.release(bot.id);
        continue;
      }
      rows.set(taken.id, taken);
      this.#owned.set(bot.id, { runner: await this.#options.runnerFor(taken, taken.ownerEpoch), epoch: taken.ownerEpoch });
      this.#options.onTakeover?.(bot.id);
    }

    const fresh = [...this.#owned.keys()].flatMap((id) => rows.get(id) ?? []);
    let ticked = 0;
    let skipped = 0;
    const done: string[] = [];
    const slot = { slotAt: new Date(slotAt), workerId };
    const tickOne = async (row: RunningBot, owned: Owned, positions: NonNullable<TickOptions['positions']>) => {
      try {
        await owned.runner.tick(row, { recordTick: false, positions });
        ticked += 1;
        done.push(row.id);
        this.#options.onTick?.(row.id, true);
      } catch (error) {
        if (error instanceof StaleOwnerError) this.#drop(row.id, 'taken over');
        else this.#options.logger.warn({ botId: row.id, err: error }, 'bot tick failed');
        this.#options.onTick?.(row.id, false);
      }
    };
    // Bots go in batches: one statement claims the slot of every bot of a batch (only while
    // each one's epoch still owns it) and one query reads their open positions; then each
    // claimed bot ticks, most of them without a query of their own.
    for (let from = 0; from < fresh.length && !this.#stopping; from += TICK_BATCH) {
      const batch: { row: RunningBot; owned: Owned }[] = [];
      for (const row of fresh.slice(from, from + TICK_BATCH)) {
        const owned = this.#owned.get(row.id);
        if (!owned) continue;
        if (row.ownerEpoch !== owned.epoch) this.#drop(row.id, 'taken over');
        else batch.push({ row, owned });
      }
      // The slots are claimed in the database only while these epochs still own the bots.
      const claimed = await claimTickSlots(
        db,
        batch.map(({ row, owned }) => ({ botId: row.id, epoch: owned.epoch })),
        slot,
      );
      skipped += batch.length - claimed.size;
      const queue = batch.filter(({ row }) => claimed.has(row.id));
      const held = await openPositionsOf(
        db,
        queue.map(({ row }) => row.id),
      );
      const lanes = Array.from({ length: Math.min(this.#options.concurrency ?? 8, queue.length) }, async () => {
        // A stopping worker starts no further tick (the ones under way finish or are cut short).
        for (let next = queue.shift(); next && !this.#stopping; next = queue.shift()) {
          await tickOne(next.row, next.owned, held.get(next.row.id) ?? []);
          // `start` answers the API on this thread, and on the embedded database a tick's
          // statements never wait for I/O: without a turn of the event loop between bots, a
          // round at a bar's close held every request that arrived meanwhile until its end.
          await nextTurn();
        }
      });
      await Promise.all(lanes);
    }
    await markBotsTicked(db, done, new Date(slotAt));
    return { ticked, skipped };
  }

  /**
   * Stops ticking and hands the bots back. The round in progress gets at most `graceMs` to
   * finish (a tick waiting on an unreachable exchange is not waited out); every write a late
   * tick could still make is fenced by the bot's epoch and the tick slot.
   */
  async stop(graceMs = 5_000): Promise<void> {
    this.#stopped = true;
    this.#stopping = true;
    this.#clock.clearTimer(this.#timer);
    this.#clock.clearTimer(this.#renewTimer);
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([this.#round, new Promise<void>((resolve) => (grace = setTimeout(resolve, graceMs)))]);
    clearTimeout(grace);
    for (const id of [...this.#owned.keys()]) await this.#options.locks.release(id).catch(() => {});
    this.#owned.clear();
  }
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
