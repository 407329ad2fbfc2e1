// Replay nonces (RFC 8555 §6.5): random, handed out on every response, each accepted once.

import { randomBytes } from 'node:crypto';

export class NoncePool {
  private readonly live = new Set<string>();
  private rejectNext = 0;

  constructor(private readonly capacity = 10_000) {}

  issue(): string {
    const n = randomBytes(16).toString('base64url');
    this.live.add(n);
    if (this.live.size > this.capacity) {
      // Sets iterate in insertion order: drop the oldest.
      this.live.delete(this.live.values().next().value as string);
    }
    return n;
  }

  /** True once per issued nonce; false for unknown, reused or deliberately rejected ones. */
  consume(n: string): boolean {
    if (!this.live.delete(n)) return false;
    if (this.rejectNext > 0) {
      this.rejectNext--;
      return false;
    }
    return true;
  }

  /** Reject the next `count` otherwise good nonces (to exercise a client's badNonce retry). */
  rejectGoodNonces(count: number): void {
    this.rejectNext += count;
  }
}
