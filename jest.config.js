/** Jest: TypeScript through swc (fast, no type checking; `tsc --noEmit` in `npm test` does that). */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" }, module: { type: "commonjs" } }],
  },
  // The real-tool tests start servers and wait for scrapes; give them room without letting a hang run forever.
  testTimeout: 120000,
};
