/**
 * Which Pulumi CLI `npm run deploy` and `npm run verify` run, so a bare machine (Node and a Docker
 * engine, nothing else) gets one on first use:
 *
 * 1. `pulumi` on PATH: the user's own install, as before.
 * 2. The CLI of the SDK's exact version in the shared cache, `$PULUMI_HOME/versions/<v>/bin/pulumi`
 *    (default `~/.pulumi/versions/<v>`): where the Automation API installs it (@pulumi/pulumi
 *    automation/cmd.js, withDefaults: `~/.pulumi/versions/<SDK version>`) and where npm's `pulumi`
 *    package caches it (pulumi npm package 3.265.0, lib/cache.js cacheDir: `$PULUMI_HOME` or `~/.pulumi`,
 *    then `versions/<version>`).
 * 3. npm's `pulumi` package through npx, pinned (`pulumi@<NPM_PULUMI_PACKAGE>`), with PULUMI_VERSION set to
 *    the SDK's version: the package's launcher (run.js -> lib/resolve.js: `version = process.env.PULUMI_VERSION
 *    || pkg.version`) then downloads exactly that CLI with Pulumi's install script (lib/download.js,
 *    installCLI: get.pulumi.com install.sh --version <v> --install-root <cache dir>) and runs it. The
 *    launcher itself is only a downloader; its own version does not matter beyond that.
 *
 * The CLI the SDK in package.json supports: any 3.x from v3.2.0-alpha on (@pulumi/pulumi
 * automation/minimumVersion.js); the SDK's own version is the one it is released and tested with, so that
 * is what a bare machine gets.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** npm's `pulumi` launcher package, newest on the registry when pinned (`npm view pulumi versions`). */
export const NPM_PULUMI_PACKAGE = "3.265.0";

export interface PulumiCliEnvironment {
  /** PATH entries. */
  path: string[];
  /** The @pulumi/pulumi version in node_modules. */
  sdkVersion: string;
  home: string;
  pulumiHome?: string;
  isExecutable: (file: string) => boolean;
}

export interface PulumiCli {
  /** argv prefix to run the CLI. */
  command: string[];
  /** Extra environment for it. */
  env: Record<string, string>;
  source: "path" | "cache" | "npm";
  /** What the user is told. */
  note: string;
}

export function resolvePulumiCli(environment: PulumiCliEnvironment): PulumiCli {
  for (const dir of environment.path.filter(Boolean)) {
    const candidate = path.join(dir, "pulumi");
    if (environment.isExecutable(candidate)) return { command: [candidate], env: {}, source: "path", note: `the Pulumi CLI on PATH (${candidate})` };
  }
  const version = environment.sdkVersion.replace(/^v/, "");
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`the @pulumi/pulumi version ${JSON.stringify(environment.sdkVersion)} is not a release version`);
  const cached = path.join(environment.pulumiHome || path.join(environment.home, ".pulumi"), "versions", version, "bin", "pulumi");
  if (environment.isExecutable(cached))
    return { command: [cached], env: {}, source: "cache", note: `the Pulumi CLI ${version} cached in ${path.dirname(cached)}` };
  return {
    command: ["npx", "--yes", `pulumi@${NPM_PULUMI_PACKAGE}`],
    env: { PULUMI_VERSION: version },
    source: "npm",
    note: `no pulumi on PATH: npm's pulumi package downloads the Pulumi CLI ${version} (the @pulumi/pulumi SDK's version) on first use into ${path.dirname(path.dirname(cached))}`,
  };
}

export function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile() && fs.statSync(file).size > 0;
  } catch {
    return false;
  }
}

export function sdkVersion(projectDir: string): string {
  const manifest = path.join(projectDir, "node_modules", "@pulumi", "pulumi", "package.json");
  return (JSON.parse(fs.readFileSync(manifest, "utf8")) as { version: string }).version;
}

export function currentEnvironment(projectDir: string): PulumiCliEnvironment {
  return {
    path: (process.env.PATH ?? "").split(path.delimiter),
    sdkVersion: sdkVersion(projectDir),
    home: os.homedir(),
    pulumiHome: process.env.PULUMI_HOME,
    isExecutable: isExecutableFile,
  };
}
