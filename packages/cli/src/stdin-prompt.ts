/** Asking the operator on stderr and reading the answer from stdin (manual DNS challenges). */
import { createInterface, type Interface } from 'node:readline';

export class StdinPrompter {
  private rl: Interface | undefined;
  private readonly pendingLines: string[] = [];
  private readonly waiters: { resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  private stdinClosed = false;
  private cancelled: unknown;
  /** A prompt was printed without a newline and is still waiting for its answer. */
  promptOpen = false;

  constructor(private readonly write: (text: string) => void, private readonly input: NodeJS.ReadableStream = process.stdin) {}

  ask(text: string): Promise<string> {
    if (this.cancelled !== undefined) return Promise.reject(this.cancelled);
    this.write(text);
    this.promptOpen = !text.endsWith('\n');
    return new Promise<string>((resolve, reject) => {
      const line = this.pendingLines.shift();
      if (line !== undefined) return resolve(line);
      if (this.stdinClosed) return reject(new Error('stdin closed (EOF)'));
      this.waiters.push({ resolve, reject });
      if (!this.rl) {
        this.rl = createInterface({ input: this.input, terminal: false });
        this.rl.on('line', (l) => {
          const w = this.waiters.shift();
          if (w) w.resolve(l);
          else this.pendingLines.push(l);
        });
        this.rl.on('close', () => {
          this.stdinClosed = true;
          for (const w of this.waiters.splice(0)) w.reject(new Error('stdin closed (EOF)'));
        });
      }
    }).then((line) => {
      this.promptOpen = false; // the operator's Enter ended the line
      return line;
    });
  }

  /** Rejects the waiting question and every later one with `reason` (the run was interrupted). */
  cancel(reason: unknown): void {
    this.cancelled = reason;
    for (const w of this.waiters.splice(0)) w.reject(reason instanceof Error ? reason : new Error(String(reason)));
  }

  close(): void {
    this.rl?.close();
  }
}
