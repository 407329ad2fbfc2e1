/**
 * The Replay-Nonce pool.
 *
 * Every response's `Replay-Nonce` goes into the pool; a signed request takes one. `HEAD newNonce`
 * is sent only when the pool is empty AND no request is in flight that will bring a nonce back.
 * Otherwise a request waits for the next nonce that arrives. Concurrent signed requests therefore
 * run as a chain (each response's nonce starts the next request) on the one keep-alive
 * connection instead of costing an extra HEAD each: issuing for N names costs ~2N + 6 requests,
 * not ~3N + 6, and each request on a warm connection is only one round trip anyway.
 */
import { TransportError } from '../errors.js';
import type { Bound } from './bound.js';

const NONCE_RE = /^[A-Za-z0-9_-]+$/;
const MAX_POOL = 32;

export function isValidNonce(value: string | undefined): value is string {
  return typeof value === 'string' && NONCE_RE.test(value);
}

interface Waiter {
  resolve(nonce: string): void;
  reject(err: unknown): void;
  /** Bounds the HEAD fetched for this waiter. */
  bound?: Bound;
}

export class NoncePool {
  private readonly pool: string[] = [];
  private readonly waiters: Waiter[] = [];
  /** Requests out on the wire that will (normally) hand a nonce back. */
  private inflight = 0;

  constructor(private readonly fetchNonce: (bound?: Bound) => Promise<string>) {}

  get size(): number {
    return this.pool.length;
  }

  /**
   * A nonce for a signed request. The caller becomes "in flight" and MUST call release() once its
   * response (or failure) is in.
   */
  acquire(bound?: Bound): Promise<string> {
    const n = this.pool.pop();
    if (n !== undefined) {
      this.inflight++;
      return Promise.resolve(n);
    }
    const p = new Promise<string>((resolve, reject) => this.waiters.push({ resolve, reject, ...(bound ? { bound } : {}) }));
    this.ensureSupply();
    return p;
  }

  /** A nonce for a retry by a request that is already in flight (never waits for itself). */
  async takeForRetry(bound?: Bound): Promise<string> {
    return this.pool.pop() ?? this.fetchNonce(bound);
  }

  /** Ends an acquire(); `nonce` is the response's Replay-Nonce, if any. */
  release(nonce?: string): void {
    this.inflight--;
    if (isValidNonce(nonce)) this.offer(nonce);
    this.ensureSupply();
  }

  /** Adds a nonce from any response (GET, HEAD, POST). Invalid values are ignored. */
  offer(nonce: string | undefined): void {
    if (!isValidNonce(nonce)) return;
    const w = this.waiters.shift();
    if (w) {
      this.inflight++;
      w.resolve(nonce);
      return;
    }
    this.pool.push(nonce);
    if (this.pool.length > MAX_POOL) this.pool.shift();
  }

  private ensureSupply(): void {
    if (this.waiters.length === 0 || this.inflight > 0) return;
    this.inflight++;
    this.fetchNonce(this.waiters[0]?.bound).then(
      (nonce) => {
        this.inflight--;
        if (isValidNonce(nonce)) this.offer(nonce);
        else this.waiters.shift()?.reject(new TransportError('the server sent an invalid Replay-Nonce', ''));
        this.ensureSupply();
      },
      (err: unknown) => {
        this.inflight--;
        this.waiters.shift()?.reject(err);
        this.ensureSupply();
      },
    );
  }
}
