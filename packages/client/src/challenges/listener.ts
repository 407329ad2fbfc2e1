/** The listener lifecycle shared by the built-in http-01 and tls-alpn-01 solvers. */
import type { AddressInfo, Server } from 'node:net';
import type { Logger } from '../log.js';
import { listen } from './common.js';

export interface SolverListenerOptions<S extends Server> {
  /** Challenge type, used in error and log messages (`<type> solver listening`). */
  type: string;
  /** The port the CA connects to (80, 443), named in bind-failure hints. */
  standardPort: number;
  /** Where to listen; read at each `start()`. */
  bind: { port: number; host?: string };
  log: Logger;
  /** Called right after `server.close()` in `stop()` to end the open connections. */
  dropConnections: (server: S) => void;
}

/**
 * One server at a time: `start(create)` creates and binds it unless already started (a failed
 * start may be retried); `stop()` waits for a pending start, closes the server and drops its
 * connections.
 */
export class SolverListener<S extends Server = Server> {
  private readonly opts: SolverListenerOptions<S>;
  private server: S | undefined;
  private starting: Promise<void> | undefined;

  constructor(opts: SolverListenerOptions<S>) {
    this.opts = opts;
  }

  /** The port actually bound (useful with port 0); undefined when not listening. */
  get port(): number | undefined {
    const addr = this.server?.address();
    return addr && typeof addr === 'object' ? (addr as AddressInfo).port : undefined;
  }

  start(create: () => S): Promise<void> {
    if (!this.starting) {
      const server = create();
      const { type, standardPort, bind, log } = this.opts;
      this.starting = listen(server, { type, standardPort, port: bind.port, host: bind.host }).then(
        () => {
          this.server = server;
          log.debug(`${type} solver listening`, { port: this.port, host: bind.host ?? '*' });
        },
        (err: unknown) => {
          this.starting = undefined;
          throw err;
        },
      );
    }
    return this.starting;
  }

  async stop(): Promise<void> {
    const starting = this.starting;
    this.starting = undefined;
    if (starting) await starting.catch(() => undefined);
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      this.opts.dropConnections(server);
    });
    this.opts.log.debug(`${this.opts.type} solver stopped`);
  }
}
