// The benchmark's tables: figures per size and client with akamu's ratios, and the targets.

/** Wall-time targets for akamu alone (seconds). */
const WALL_TARGETS = new Map([[1, 0.6], [100, 3]]);
/** akamu's wall time at most this fraction of a peer's, at this size. */
const PEER_TARGETS = [{ n: 1, peer: 'lego', factor: 0.03 }, { n: 100, peer: 'certbot', factor: 0.15 }];
/** Start-up at most this multiple of `node -e 0`. */
const STARTUP_TARGETS = [{ key: 'version', label: 'akamu-cli --version', factor: 1.4 }, { key: 'help', label: 'akamu-cli --help', factor: 1.5 }];
// 2N+8, plus the one POST-as-GET of the account that records its contacts in the renewal config (issue 11)
const requestTarget = (n) => 2 * n + 9;

export const TARGETS_TEXT = `Targets: akamu 1 name ≤ 0.6 s and ≤ 0.03 × lego; 100 names ≤ 3 s and ≤ 0.15 × certbot; ACME requests ≤ 2N+9;
start-up --version ≤ 1.4 × and --help ≤ 1.5 × node -e 0. A missed target is reported, not fatal.`;

function formatTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmt = (row) => row.map((c, i) => c.padEnd(widths[i])).join(' | ').trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(fmt)].join('\n');
}

const ratio = (a, b) => (b > 0 ? (a / b).toFixed(3) : '-');

/**
 * results: [{ n, client, wallS, rssMb, requests } | { n, client, error }], sizes in run order.
 * Peer rows carry akamu's figure divided by the peer's (below 1: akamu is faster / smaller).
 */
export function resultsTable(results) {
  const akamuAt = (n) => results.find((r) => r.n === n && r.client === 'akamu' && !r.error);
  const rows = results.map((r) => {
    if (r.error) return [String(r.n), r.client, 'FAILED', '-', '-', '-', '-', '-'];
    const a = r.client === 'akamu' ? undefined : akamuAt(r.n);
    return [String(r.n), r.client, r.wallS.toFixed(3), r.rssMb.toFixed(1), String(r.requests),
      a ? ratio(a.wallS, r.wallS) : '-', a ? ratio(a.rssMb, r.rssMb) : '-', a ? ratio(a.requests, r.requests) : '-'];
  });
  return formatTable(['names', 'client', 'wall s', 'peak RSS MB', 'ACME requests', 'akamu/x wall', 'akamu/x RSS', 'akamu/x requests'], rows);
}

/** startup: { node, version, help } median seconds. */
export function startupTable(startup) {
  const rows = [['node -e 0', (startup.node * 1000).toFixed(1), '1.00']];
  for (const t of STARTUP_TARGETS) rows.push([t.label, (startup[t.key] * 1000).toFixed(1), ratio(startup[t.key], startup.node)]);
  return formatTable(['command', 'median ms', '× node -e 0'], rows);
}

/** Every target that applies to what was run: [target, figure, met]. */
export function targetsTable(results, startup) {
  const rows = [];
  const get = (n, client) => results.find((r) => r.n === n && r.client === client);
  const failed = (r) => (r.error ? `${r.client} issuance failed` : undefined);
  const check = (target, r, ok, figure) => {
    const why = failed(r);
    rows.push([target, why ? '-' : figure(), why ? `no (${why})` : ok() ? 'yes' : 'no']);
  };
  for (const n of [...new Set(results.map((r) => r.n))]) {
    const a = get(n, 'akamu');
    if (!a) continue;
    const names = `${n} name${n === 1 ? '' : 's'}`;
    const wt = WALL_TARGETS.get(n);
    if (wt !== undefined) check(`akamu, ${names}: wall ≤ ${wt} s`, a, () => a.wallS <= wt, () => `${a.wallS.toFixed(3)} s`);
    check(`akamu, ${names}: requests ≤ 2N+9 = ${requestTarget(n)}`, a, () => a.requests <= requestTarget(n), () => String(a.requests));
    for (const t of PEER_TARGETS.filter((t) => t.n === n)) {
      const p = get(n, t.peer);
      if (!p) continue;
      const both = a.error ? a : p;
      check(`akamu, ${names}: wall ≤ ${t.factor} × ${t.peer}`, both, () => a.wallS <= t.factor * p.wallS,
        () => `${ratio(a.wallS, p.wallS)} × (${a.wallS.toFixed(3)} s / ${p.wallS.toFixed(3)} s)`);
    }
  }
  if (startup) {
    for (const t of STARTUP_TARGETS) {
      const x = startup[t.key] / startup.node;
      rows.push([`start-up: ${t.label} ≤ ${t.factor} × node -e 0`, `${x.toFixed(2)} ×`, x <= t.factor ? 'yes' : 'no']);
    }
  }
  return formatTable(['target', 'figure', 'met'], rows);
}

/** rows: bench/renew-all.mjs's [{ label, targetS, wallS, rssMb, requests } | { label, targetS, error }]. */
export function renewAllTable(rows) {
  return formatTable(['renew --all', 'wall s', 'CPU s', 'peak RSS MB', 'ACME requests', 'target', 'met'], rows.map((r) => (r.error
    ? [r.label, 'FAILED', '-', '-', '-', `≤ ${r.targetS} s`, 'no (failed)']
    : [r.label, r.wallS.toFixed(3), r.cpuS?.toFixed(2) ?? '-', r.rssMb.toFixed(1), String(r.requests), `≤ ${r.targetS} s`, r.wallS <= r.targetS ? 'yes' : 'no'])));
}
