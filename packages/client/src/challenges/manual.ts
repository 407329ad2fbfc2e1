/** Manual DNS publishing: the caller shows the record and waits for the user. */
import type { DnsPublisher, DnsRecord } from './types.js';

/**
 * Calls `ask(record)` for every record, strictly one at a time and in the order `add` was called,
 * even when the issuance flow prepares all authorizations concurrently — so a CLI can print one
 * record and wait for Enter before the next. A rejected `ask` fails only its own `add`; the next
 * queued prompt still runs. There is no `remove`: removing the record is the user's job.
 */
export class ManualDnsPublisher implements DnsPublisher {
  private readonly ask: (r: DnsRecord) => Promise<void>;
  private queue: Promise<void> = Promise.resolve();

  constructor(ask: (r: DnsRecord) => Promise<void>) {
    this.ask = ask;
  }

  add(record: DnsRecord): Promise<void> {
    const run = this.queue.then(() => this.ask(record));
    this.queue = run.catch(() => undefined);
    return run;
  }
}
