import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { describeError, type WebLogger } from './log-port.js';

/** The store's leases as the keeper uses them (store/leases.ts). */
export interface LeaseStore {
  claim(name: string, owner: string, ttlMs: number, now: number): Promise<{ held: boolean; owner: string; generation: number; expiresAt: number }>;
  release(name: string, owner: string): Promise<void>;
}

/** What the keeper drives: the session's start, standby and final stop. */
export interface LeasedSession {
  start(): void;
  standBy(reason: string): Promise<void>;
  stop(): Promise<void>;
}

export interface SessionLeaseOptions {
  leases: LeaseStore;
  session: LeasedSession;
  /** This instance's name in the lease, unique among the instances on one store. */
  owner?: string;
  /** The lease's name; one per linked WhatsApp session. */
  name?: string;
  /** How long a claim holds without renewal. Default 30 s. */
  ttlMs?: number;
  logger: WebLogger;
  now?: () => number;
}

/** A name that tells an operator which machine and process holds the session. */
export function instanceName(): string {
  return `${hostname()}/pid ${process.pid}/${randomBytes(3).toString('hex')}`;
}

/**
 * Runs the WhatsApp Web session on exactly one bridge instance among those sharing a store. Every
 * instance claims the lease every quarter of its lifetime: the owner's claim renews it, the
 * others' claims take it once it has run out (the owner died or lost the database). The owner
 * stops its session a quarter of a lifetime before its last renewal runs out, whatever else it is
 * doing, so the instance that takes over never overlaps with it (given clocks that agree to within
 * that quarter). A clean stop gives the lease up at once.
 */
export class SessionLease {
  readonly owner: string;
  private readonly name: string;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private holding = false;
  private decided = false;
  private stopped = false;
  private tickTimer: NodeJS.Timeout | undefined;
  private fenceTimer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  /** The last standby's closing of the client: a new start waits for it (one browser per profile). */
  private closing: Promise<void> = Promise.resolve();

  constructor(private readonly options: SessionLeaseOptions) {
    this.owner = options.owner ?? instanceName();
    this.name = options.name ?? 'whatsapp-web';
    this.ttlMs = options.ttlMs ?? 30_000;
    this.now = options.now ?? (() => Date.now());
  }

  /** Starts claiming; the session starts here only once this instance holds the lease. */
  start(): void {
    this.ticking = this.tick();
  }

  /** True while this instance holds the lease and runs the session. */
  get held(): boolean {
    return this.holding;
  }

  /** Stops the session for good, then gives the lease up so another instance takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.tickTimer);
    clearTimeout(this.fenceTimer);
    await this.ticking;
    await this.options.session.stop();
    if (!this.holding) return;
    this.holding = false;
    try {
      await this.options.leases.release(this.name, this.owner);
    } catch (error) {
      this.options.logger.warn(describeError(error), 'could not give up the WhatsApp Web lease; another instance takes over when it runs out');
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const claimedAt = this.now();
    try {
      const lease = await this.options.leases.claim(this.name, this.owner, this.ttlMs, claimedAt);
      if (this.stopped) return;
      if (lease.held) {
        this.armFence(claimedAt + this.ttlMs);
        if (!this.holding) {
          this.holding = true;
          this.decided = true;
          this.options.logger.info({ owner: this.owner, generation: lease.generation }, 'this bridge instance now runs the WhatsApp Web session');
          await this.closing;
          if (!this.stopped) this.options.session.start();
        }
      } else if (this.holding || !this.decided) {
        this.holding = false;
        this.decided = true;
        clearTimeout(this.fenceTimer);
        this.closing = this.options.session.standBy(`bridge instance ${lease.owner} runs the WhatsApp Web session`);
        await this.closing;
      }
    } catch (error) {
      // The fence timer stops the session before the last renewal runs out.
      this.options.logger.warn(describeError(error), 'could not claim the WhatsApp Web lease; trying again');
    } finally {
      if (!this.stopped) {
        this.tickTimer = setTimeout(() => {
          this.ticking = this.tick();
        }, Math.max(250, Math.floor(this.ttlMs / 4)));
        this.tickTimer.unref();
      }
    }
  }

  /** Stops the session a quarter of a lease before `expiresAt` unless a renewal comes first. */
  private armFence(expiresAt: number): void {
    clearTimeout(this.fenceTimer);
    const delay = Math.max(0, expiresAt - Math.floor(this.ttlMs / 4) - this.now());
    this.fenceTimer = setTimeout(() => {
      if (!this.holding || this.stopped) return;
      this.holding = false;
      this.options.logger.warn({ owner: this.owner }, 'the WhatsApp Web lease could not be renewed in time; stopping the session here so that no two instances run it');
      this.closing = this.options.session.standBy('this instance could not renew its claim on the WhatsApp Web session (the database did not answer); it claims again');
    }, delay);
    this.fenceTimer.unref();
  }
}
