/**
 * What `renew --all` shares between the certificates of one run, so an hourly run over a fleet
 * costs little more than its ARI checks:
 * - per CA (directory URL + `--server-ca`): one transport (one keep-alive agent: its connections
 *   are reused by every certificate), one directory fetch, and one client for the ARI checks;
 * - per CA and account key: one client, its account session and its nonces;
 * - per port: one http-01 / tls-alpn-01 listener serving the tokens of every issuance in flight.
 * Each certificate gets views of these clients bounded by its own `--poll-timeout` and the run's signal.
 */
import { resolve } from 'node:path';
import {
  AcmeClient, Http01Solver, TlsAlpn01Solver, type ChallengeContext, type HttpRequest, type HttpResponse, type Identifier, type Solver, type Transport,
} from 'akamu-client';
import type { Runtime } from '../runtime.js';
import { pollTimeoutMs, serverTransport, type ServerOptions } from '../server.js';
import type { IssueSettings } from './issue.js';

/**
 * The directory is read once per run: later GETs of the directory URL (a new client for another
 * account) are answered from the first good answer.
 */
class DirectoryOnce implements Transport {
  private answer: HttpResponse | undefined;
  constructor(private readonly inner: Transport, private readonly directoryUrl: string) {}

  async request(req: HttpRequest): Promise<HttpResponse> {
    if (req.method !== 'GET' || req.url !== this.directoryUrl) return this.inner.request(req);
    if (this.answer) return this.answer;
    const res = await this.inner.request(req);
    if (res.status === 200) this.answer = res;
    return res;
  }
}

interface CaSession {
  transport: Promise<{ transport: Transport; close(): void; sent(): number }>;
  /** Unauthenticated uses (ARI); no deadline of its own. */
  base: Promise<AcmeClient>;
  accounts: Map<string, Promise<AcmeClient>>;
}

export class FleetSessions {
  private readonly cas = new Map<string, CaSession>();

  /** `rt`: the run's (its log lines are about the CA, not one certificate). */
  constructor(private readonly rt: Runtime) {}

  /** The client for one certificate's ARI check or issuance, bounded by its `--poll-timeout`. */
  async client(opts: IssueSettings, purpose: 'ari' | 'issue', rt: Runtime): Promise<AcmeClient> {
    const ca = this.ca(opts);
    let client: Promise<AcmeClient>;
    if (purpose === 'ari') {
      client = ca.base;
    } else {
      // login() sets the account of a client and its views: one client per account key
      const key = resolve(opts.accountKey);
      let c = ca.accounts.get(key);
      if (!c) {
        c = ca.transport.then(({ transport }) => AcmeClient.connect(opts.server, { transport, log: this.rt.log.child('akamu_client') }));
        ca.accounts.set(key, c);
      }
      client = c;
    }
    // a CA that cannot be reached fails every certificate of it with the same error, once
    return (await client).bounded({ deadline: Date.now() + pollTimeoutMs(opts), signal: rt.signal });
  }

  private ca(opts: ServerOptions): CaSession {
    const { rt } = this;
    const id = `${opts.server}\n${opts.serverCa ? resolve(opts.serverCa) : ''}`;
    let ca = this.cas.get(id);
    if (!ca) {
      const transport = serverTransport(opts, rt).then(({ transport, http }) => ({
        transport: new DirectoryOnce(transport, opts.server), close: () => http.close(), sent: () => http.requestsSent,
      }));
      const base = transport.then(async ({ transport: t }) => {
        const c = await AcmeClient.connect(opts.server, { transport: t, log: rt.log.child('akamu_client') });
        rt.log.info(`directory: ${opts.server}`);
        return c;
      });
      // awaited by the certificates; a failure is theirs to report
      transport.catch(() => {});
      base.catch(() => {});
      ca = { transport, base, accounts: new Map() };
      this.cas.set(id, ca);
    }
    return ca;
  }

  /** HTTP requests sent to every CA so far. */
  async requests(): Promise<number> {
    let n = 0;
    for (const ca of this.cas.values()) n += await ca.transport.then((t) => t.sent(), () => 0);
    return n;
  }

  /** Closes the idle connections. */
  async close(): Promise<void> {
    for (const ca of this.cas.values()) await ca.transport.then((t) => t.close(), () => {});
  }
}

/**
 * One listener per challenge type and port for all the issuances of the run: each issuance gets a
 * view whose start/stop count users, so the listener runs while any issuance needs it.
 */
export class SharedListeners {
  private readonly shared = new Map<string, { solver: Solver; users: number }>();

  /** The solvers of one issuance, with http-01 and tls-alpn-01 replaced by views of the shared ones. */
  share(solvers: Solver[], ports: { httpPort: number; tlsPort: number }): Solver[] {
    return solvers.map((s) => {
      const port = s instanceof Http01Solver ? ports.httpPort : s instanceof TlsAlpn01Solver ? ports.tlsPort : undefined;
      if (port === undefined) return s;
      const id = `${s.type}:${port}`;
      let entry = this.shared.get(id);
      if (!entry) {
        entry = { solver: s, users: 0 };
        this.shared.set(id, entry);
      }
      return view(entry);
    });
  }

  async close(): Promise<void> {
    for (const { solver } of this.shared.values()) await solver.stop?.();
  }
}

function view(entry: { solver: Solver; users: number }): Solver {
  const s = entry.solver;
  return {
    type: s.type,
    check: (ids: Identifier[]) => s.check?.(ids),
    start: async () => {
      entry.users++;
      try {
        await s.start?.();
      } catch (err) {
        entry.users--;
        throw err;
      }
    },
    stop: async () => {
      entry.users--;
      if (entry.users === 0) await s.stop?.();
    },
    prepare: (ctx: ChallengeContext) => s.prepare(ctx),
    cleanup: (ctx: ChallengeContext) => s.cleanup(ctx),
    ...(s.responsePayload ? { responsePayload: (ctx: ChallengeContext) => s.responsePayload!(ctx) } : {}),
  };
}
