/** Kerberos failures as one clear line each: GSSAPI's status texts turned into what went wrong. */
import { AkamuError, type AkamuErrorOptions } from '../errors.js';

/** A Kerberos (GSSAPI/SPNEGO) failure; `code` is 'kerberos', or 'kerberos-unavailable' without the binding. */
export class KerberosError extends AkamuError {
  constructor(message: string, code: 'kerberos' | 'kerberos-unavailable' = 'kerberos', options?: AkamuErrorOptions) {
    super(message, code, options);
  }
}

/** What the GSSAPI message means, for the keytab and service at hand; undefined when it is not one we know. */
function meaning(gss: string, keytab: string, service: string): string | undefined {
  let m: RegExpMatchArray | null;
  if ((m = gss.match(/Client '?([^' ]+)'? not found in Kerberos database/))) {
    return `the KDC does not know the principal ${m[1]} of the keytab ${keytab} (wrong keytab, or the principal was removed)`;
  }
  if (/Decrypt integrity check failed|Preauthentication failed|Password incorrect|Integrity check on decrypted field failed/.test(gss)) {
    return `the KDC rejected the keys in the keytab ${keytab}: they are outdated or not this principal's (wrong keytab)`;
  }
  if ((m = gss.match(/Cannot contact any KDC for realm '?([^']+)'?/))) {
    return `cannot reach a KDC for realm ${m[1]} (is the KDC running, and does krb5.conf name it?)`;
  }
  if ((m = gss.match(/Cannot find KDC for realm "?'?([^"']+)/))) return `no KDC is configured for realm ${m[1]} in krb5.conf`;
  if ((m = gss.match(/Server '?([^' ]+)'? not found in Kerberos database/))) {
    return `the KDC has no service principal for ${service} (${m[1]} not found in its database)`;
  }
  if (/Key table file '[^']*' not found|No such file or directory/.test(gss)) return `the keytab ${keytab} does not exist`;
  if (/SPNEGO cannot find mechanisms to negotiate|No Kerberos credentials available|No key table entry found/.test(gss)) {
    return `no usable Kerberos credentials in the keytab ${keytab}`;
  }
  if (/Clock skew too great/.test(gss)) return 'the clocks of this host and the KDC are too far apart';
  if (/Configuration file does not specify default realm|Cannot determine realm/.test(gss)) return 'krb5.conf names no default realm';
  return undefined;
}

/** A KerberosError for a failed GSSAPI call on the initiator side. */
export function gssFailure(err: unknown, keytab: string, service: string): KerberosError {
  const gss = String((err as Error)?.message ?? err).replace(/[\r\n]+/g, ' ');
  const what = meaning(gss, keytab, service) ?? gss;
  return new KerberosError(`Kerberos authentication to ${service} failed: ${what}`, 'kerberos', { cause: err });
}
