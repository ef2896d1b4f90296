// Loads the program the way `pulumi up` does for a TypeScript project: Pulumi's own choice of
// ts-node (its vendored 7.0.1 unless the project has one) and of TypeScript (the project's),
// registered with the options of @pulumi/pulumi/cmd/run, type checking on. Then plans a stack
// under the mock engine and prints the resource count. Usage: node <this> <projectDir> <stack>
"use strict";
const path = require("path");
const [projectDir, stack] = process.argv.slice(2);
const tsutils = require(path.join(projectDir, "node_modules/@pulumi/pulumi/tsutils"));
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
const tsconfig = path.join(projectDir, "tsconfig.json");
require(tsnodeRequire).register({
  compiler: typescriptRequire,
  transpileOnly: false,
  project: tsconfig,
  skipProject: false,
  compilerOptions: {
    target: "ES2020",
    module: "nodenext",
    moduleResolution: "nodenext",
    sourceMap: "true",
    ...tsutils.loadTypeScriptCompilerOptions(tsconfig),
  },
});
const { planStack } = require(path.join(projectDir, "scripts/lib/plan.ts"));
planStack(projectDir, stack).then(
  (result) => console.log(JSON.stringify({ loader: tsnodeRequire, resources: result.run.resources.length })),
  (error) => {
    console.error(error.message);
    process.exit(1);
  },
);
