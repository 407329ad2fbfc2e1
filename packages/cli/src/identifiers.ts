/**
 * ACME identifiers from `-d` values and renewal configs. Identifiers stay `Identifier` objects from
 * here to the CSR; this module checks and normalises them once, before anything is ordered.
 */
import { isIP } from 'node:net';
import { UsageError, normalizeIdentifiers as normalize, type Identifier } from 'akamu-client';

/** `-d` values as identifiers, as given (checked and normalised by normalizeIdentifiers). */
export function identifiersFromFlags(values: string[]): Identifier[] {
  return values.map((value) => ({ type: isIP(value.trim()) ? 'ip' : 'dns', value }));
}

/**
 * Check, normalise and de-duplicate (in the library: IP addresses in canonical form, DNS names
 * lower-cased, without a trailing dot, IDNA A-labels). For dns and ip the type is taken from the
 * value (as for `-d`), so a renewal config written by hand cannot mislabel an address; other
 * identifier types pass through.
 */
export function normalizeIdentifiers(ids: Identifier[]): Identifier[] {
  if (ids.length === 0) throw new UsageError('at least one -d DOMAIN is required');
  return normalize(ids.map((i) => (i.type === 'dns' || i.type === 'ip' ? i.value : i)));
}
