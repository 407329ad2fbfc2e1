import { readFileSync } from 'node:fs';
import { CLIENT_VERSION } from 'akamu-client';

export const CLI_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export const USER_AGENT = `akamu-cli/${CLI_VERSION} akamu-client/${CLIENT_VERSION} node/${process.versions.node}`;
