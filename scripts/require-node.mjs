// Plain JavaScript on purpose: it must run, and refuse, on any Node version.
// npm scripts put node_modules/.bin first on PATH, where the `node` dev dependency installs Node 24.
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  console.error(
    `This project runs on Node 24 LTS; this is Node ${process.version} (${process.execPath}).\n` +
      "Run `npm ci` (it installs Node 24 into node_modules/.bin, which npm scripts use), or `nvm use`.",
  );
  process.exit(1);
}
