/** The CLI's own version, read from its package.json (the library is not loaded for `--version`). */
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string; bin: Record<string, string> };

export const CLI_VERSION: string = pkg.version;

/** The names the package installs the CLI under (package.json `bin`): the shells complete each. */
export const CLI_NAMES: readonly string[] = Object.keys(pkg.bin);
