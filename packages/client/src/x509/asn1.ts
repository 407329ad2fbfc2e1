/** Lazy loader for the @peculiar ASN.1 modules (~120 ms to import; keep them off the CLI's startup path). */

type Asn1Modules = {
  schema: typeof import('@peculiar/asn1-schema');
  x509: typeof import('@peculiar/asn1-x509');
  csr: typeof import('@peculiar/asn1-csr');
};

let loading: Promise<Asn1Modules> | undefined;

export function loadAsn1(): Promise<Asn1Modules> {
  loading ??= Promise.all([
    import('@peculiar/asn1-schema'),
    import('@peculiar/asn1-x509'),
    import('@peculiar/asn1-csr'),
  ]).then(([schema, x509, csr]) => ({ schema, x509, csr }));
  return loading;
}

export const OID = {
  commonName: '2.5.4.3',
  subjectAltName: '2.5.29.17',
  authorityKeyIdentifier: '2.5.29.35',
  extensionRequest: '1.2.840.113549.1.9.14',
  acmeIdentifier: '1.3.6.1.5.5.7.1.31',
  /** RFC 8226 / RFC 9448 */
  tnAuthList: '1.3.6.1.5.5.7.1.26',
  /** RFC 8226 */
  jwtClaimConstraints: '1.3.6.1.5.5.7.1.27',
  /** RFC 9118 */
  enhancedJwtClaimConstraints: '1.3.6.1.5.5.7.1.33',
} as const;
