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
  // One test file at a time (the real-tool tests start servers and containers), in a worker that is
  // replaced once its heap passes the limit after a file. In one long-lived process the run's memory
  // grew past 24 GB outside the JS heap (measured: heap 1.5 GB at 16 GB resident) as the program tests'
  // fresh module registries each load Pulumi's runtime again; a fresh worker gives all of it back.
  // (jest-worker measures heapUsed after each file: jest-worker build/processChild.js.)
  maxWorkers: 1,
  workerIdleMemoryLimit: "512MB",
};
