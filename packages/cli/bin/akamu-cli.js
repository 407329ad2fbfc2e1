#!/usr/bin/env node
// The akamu-cli launcher. Written in syntax that every Node.js can parse (ES5, no import or export
// statement, the import() call hidden in a Function), so that an old Node.js reaches the version
// check and says what is wrong instead of dying with a SyntaxError in the bundle.
var MIN_MAJOR = 20;
var MIN_MINOR = 19;
var parts = String(process.versions.node).split('.');
var major = Number(parts[0]);
var minor = Number(parts[1]);
if (!(major > MIN_MAJOR || (major === MIN_MAJOR && minor >= MIN_MINOR))) {
  process.stderr.write('akamu-cli needs Node.js >= ' + MIN_MAJOR + '.' + MIN_MINOR + ' (found ' + process.version + ')\n');
  process.exit(1);
}
// resolved against this file (symbolic links followed), as a static import would be
var load = new Function('specifier', 'return import(specifier)');
load('../bundle/main.js')
  .then(function (cli) { return cli.main(process.argv); })
  .then(function (code) {
    // process.exit() drops what a pipe has not taken yet (more than 64 KiB: renew --all, a slow
    // reader): exit once both streams have handed over everything written so far
    process.stdout.write('', function () {
      process.stderr.write('', function () { process.exit(code); });
    });
  });
