/** Defaults shown in help texts and used by the commands; no imports, so `--help` stays cheap. */

export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

export const DEFAULT_CERTBOT_DIR = '/etc/letsencrypt';
