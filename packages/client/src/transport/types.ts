/** The transport seam: what the ACME layer needs from HTTP. */

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /**
   * Every attempt and every wait for this request ends within this many milliseconds (what is
   * left of the caller's deadline); past it the request fails with `deadlineExceeded` set.
   */
  budgetMs?: number;
  /** Ends the request, and any wait between its attempts, when aborted. */
  signal?: AbortSignal;
  /** Told of each retry, one line each, instead of the transport's log (the caller logs it its way). */
  onRetry?: (line: string) => void;
}

/** Facts about the server's TLS certificate, for `-v`/`-vv` output. */
export interface TlsPeerInfo {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  fingerprint256: string;
  /** The certificate itself (DER), for what X509Certificate does not tell (its signature algorithm). */
  der?: Buffer;
  protocol?: string;
}

export interface HttpResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  peer?: TlsPeerInfo;
  /** How many HTTP requests this response took (1 + transport-level retries). */
  attempts?: number;
}

/** Anything that can send an HttpRequest; HttpTransport is the real one. */
export interface Transport {
  request(req: HttpRequest): Promise<HttpResponse>;
}

/** First value of a response header (names are lower case). */
export function headerValue(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
