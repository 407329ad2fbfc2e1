import type { GeneralName as GeneralNameT, Name as NameT } from '@peculiar/asn1-x509';
import { loadAsn1, OID } from './asn1.js';
import type { Identifier } from '../identifiers.js';
import { formatIp, parseIp } from './ip.js';

/** SAN entries for dns and ip identifiers: dNSName and iPAddress (other types have none). */
export async function generalNames(identifiers: readonly Identifier[]): Promise<GeneralNameT[]> {
  const { x509 } = await loadAsn1();
  const out: GeneralNameT[] = [];
  for (const id of identifiers) {
    const ip = id.type === 'ip' ? parseIp(id.value) : undefined;
    if (ip) out.push(new x509.GeneralName({ iPAddress: formatIp(ip) }));
    else if (id.type === 'dns') out.push(new x509.GeneralName({ dNSName: id.value }));
  }
  return out;
}

/** A Name holding one CN, or the empty Name when `cn` is undefined. */
export async function commonNameName(cn: string | undefined): Promise<NameT> {
  const { x509 } = await loadAsn1();
  if (cn === undefined) return new x509.Name();
  return new x509.Name([
    new x509.RelativeDistinguishedName([
      new x509.AttributeTypeAndValue({ type: OID.commonName, value: new x509.AttributeValue({ utf8String: cn }) }),
    ]),
  ]);
}

const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** `CN=example.com, O=Org` in certificate order. */
export function nameToString(name: NameT): string {
  return name
    .map((rdn) => rdn.map((atv) => `${SHORT_NAMES[atv.type] ?? atv.type}=${atv.value.toString()}`).join('+'))
    .join(', ');
}
