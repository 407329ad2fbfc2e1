/** Link headers (RFC 8288): the targets of one relation, from several headers and comma-joined values. */

/** Every `<target>` whose `rel` includes `rel` (case-insensitive), in header order. */
export function linkTargets(link: string | string[] | undefined, rel: string): string[] {
  const values = Array.isArray(link) ? link : link ? [link] : [];
  const out: string[] = [];
  for (const m of values.join(',').matchAll(/<([^>]*)>([^,<]*)/g)) {
    const r = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;]+))/i.exec(m[2] ?? '');
    if ((r?.[1] ?? r?.[2] ?? '').toLowerCase().split(/\s+/).includes(rel.toLowerCase()) && m[1]) out.push(m[1]);
  }
  return out;
}
