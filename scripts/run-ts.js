// Runs a TypeScript entry point with @swc/core as the loader (transpile only; `npm test` type-checks).
// Usage: node scripts/run-ts.js <file.ts> [args...]
"use strict";
const fs = require("fs");
const path = require("path");
const swc = require("@swc/core");

require.extensions[".ts"] = (module, filename) => {
  const source = fs.readFileSync(filename, "utf8");
  const { code } = swc.transformSync(source, {
    filename,
    jsc: { parser: { syntax: "typescript" }, target: "es2022" },
    module: { type: "commonjs" },
    sourceMaps: "inline",
  });
  module._compile(code, filename);
};

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error("usage: node scripts/run-ts.js <file.ts> [args...]");
  process.exit(2);
}
process.argv = [process.argv[0], path.resolve(entry), ...args];
require(path.resolve(entry));
