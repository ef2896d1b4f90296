/**
 * Runs the real Pulumi program in-process under the SDK's mock engine and records every resource
 * registration as the engine would see it: type, name, parent, dependencies, provider, resource
 * options and inputs, with secret inputs masked (and their paths listed). Used by `npm run plan`,
 * the benchmark and the program tests. Needs no CLI, plugin, Docker or network.
 */
import { createHash } from "crypto";
import * as path from "path";

export const SECRET_MASK = "[secret]";

export interface PlannedResource {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  parent?: string;
  /** URNs this resource depends on (explicit dependsOn and outputs used as inputs). */
  dependencies: string[];
  /** Provider reference (`<provider urn>::<id>`) for custom resources given an explicit provider. */
  provider?: string;
  retainOnDelete: boolean;
  deleteBeforeReplace: boolean;
  /** Input properties whose change replaces the resource (the `replaceOnChanges` option). */
  replaceOnChanges: string[];
  protect: boolean;
  /** Inputs as sent to the engine; secret values replaced by SECRET_MASK. */
  inputs: Record<string, unknown>;
  /** Paths (e.g. `envs`, `auth`) of the inputs that are secrets, i.e. stored encrypted in state. */
  secretPaths: string[];
}

export interface StackOutput {
  value: unknown;
  secret: boolean;
}

export interface ProgramRun {
  resources: PlannedResource[];
  outputs: Record<string, StackOutput>;
}

export interface RunOptions {
  /** The program's entry module (index.ts). */
  entry: string;
  project: string;
  stack: string;
  /** Full config keys (`project:key`) to their stored text, as the CLI passes them. */
  config: Record<string, string>;
  secretKeys: string[];
}

/** The program stopped (bad config, bad dashboard); `resources` is what it had registered by then. */
export class ProgramError extends Error {
  constructor(
    message: string,
    readonly resources: PlannedResource[],
  ) {
    super(message);
    this.name = "ProgramError";
  }
}

// Pulumi's wire encoding of a secret value: { [SIG_KEY]: SECRET_SIG, value }.
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";

/**
 * What a provider would compute on create, for the few outputs the program reads back.
 * Everything else echoes the inputs, as Pulumi's mocks do by default.
 */
function mockState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "docker:index/remoteImage:RemoteImage":
      return { ...inputs, imageId: `sha256:mock-image-id-of(${String(inputs.name)})` };
    case "random:index/randomPassword:RandomPassword":
      // Both secret, as the provider's schema marks them (@pulumi/random randomPassword.js, additionalSecretOutputs).
      return { ...inputs, result: wireSecret(`mock-generated-password-${name}`), bcryptHash: wireSecret(mockBcryptHash(name)) };
    case "pulumi-nodejs:dynamic/elastic:ElasticsearchApiKey":
      // What the provider's create returns (components/elastic/provider-runtime.ts): the key id:api_key and its
      // base64, both secret (additionalSecretOutputs, which the SDK's mocks do not apply by themselves).
      return {
        ...inputs,
        keyId: `mock-key-id-${name}`,
        apiKey: wireSecret(`mock-key-id-${name}:mock-api-key-${name}`),
        encoded: wireSecret(Buffer.from(`mock-key-id-${name}:mock-api-key-${name}`).toString("base64")),
      };
    case "grafana:oss/serviceAccountToken:ServiceAccountToken":
      // The token the provider then works with; secret as the provider's schema marks `key` (sensitive).
      return { ...inputs, key: wireSecret(`mock-grafana-token-${name}`) };
    // @pulumi/tls 5.6.1 (node_modules/@pulumi/tls): the outputs the stack reads, by the names of the
    // classes' `declare readonly` outputs. Keys are secret as privateKey.js's `additionalSecretOutputs`
    // marks them (privateKeyOpenssh, privateKeyPem, privateKeyPemPkcs8); certificates and requests are not.
    // The mock key holds the PEM marker, so a test finds it wherever it leaks.
    case "tls:index/privateKey:PrivateKey":
      return {
        ...inputs,
        privateKeyPem: wireSecret(`-----BEGIN PRIVATE KEY-----\nmock-private-key-${name}\n-----END PRIVATE KEY-----\n`),
        publicKeyPem: `-----BEGIN PUBLIC KEY-----\nmock-public-key-${name}\n-----END PUBLIC KEY-----\n`,
      };
    case "tls:index/selfSignedCert:SelfSignedCert":
    case "tls:index/locallySignedCert:LocallySignedCert":
      return {
        ...inputs,
        certPem: `-----BEGIN CERTIFICATE-----\nmock-certificate-${name}\n-----END CERTIFICATE-----\n`,
        readyForRenewal: false,
      };
    case "tls:index/certRequest:CertRequest":
      return { ...inputs, certRequestPem: `-----BEGIN CERTIFICATE REQUEST-----\nmock-request-${name}\n-----END CERTIFICATE REQUEST-----\n` };
    default:
      return inputs;
  }
}

/** A secret as the engine returns it, so the SDK resolves the output as secret. */
function wireSecret(value: string): Record<string, unknown> {
  return { [SIG_KEY]: SECRET_SIG, value };
}

/**
 * Shaped like the provider's bcrypt hash (golang.org/x/crypto/bcrypt at its default cost: `$2a$10$`, 22
 * characters of salt and 31 of hash in bcrypt's base64 alphabet), derived from the name, not the password.
 */
function mockBcryptHash(name: string): string {
  const alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const digest = createHash("sha512").update(name).digest();
  const encoded = Array.from(digest.subarray(0, 53), (byte) => alphabet[byte % 64]).join("");
  return `$2a$10$${encoded}`;
}

export async function runProgram(options: RunOptions): Promise<ProgramRun> {
  // Required here, not at the top: callers (jest's isolateModules) decide which module instance is fresh.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
  const recorded: PlannedResource[] = [];

  pulumi.runtime.setAllConfig(options.config, options.secretKeys);
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({ id: args.custom ? `${args.name}-id` : undefined, state: mockState(args.type, args.name, args.inputs) }),
      call: (args) => {
        throw new Error(`the program called ${args.token}, which the offline plan does not mock`);
      },
    },
    options.project,
    options.stack,
  );

  // Wrap the mock monitor's registerResource to see the request the engine would get.
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource: (req: RegisterRequest, callback: (error: unknown, response: unknown) => void) => Promise<void>;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const raw = req.getObject()?.toJavaScript() ?? {};
    const secretPaths: string[] = [];
    const inputs = maskSecrets(raw, "", secretPaths) as Record<string, unknown>;
    const parent = req.getParent() || undefined;
    recorded.push({
      urn: urnOf(options, parent, req.getType(), req.getName()),
      type: req.getType(),
      name: req.getName(),
      custom: req.getCustom(),
      parent,
      dependencies: [...new Set(req.getDependenciesList())].sort(),
      provider: req.getProvider() || undefined,
      retainOnDelete: req.getRetainondelete?.() ?? false,
      deleteBeforeReplace: req.getDeletebeforereplace?.() ?? false,
      replaceOnChanges: req.getReplaceonchangesList?.() ?? [],
      protect: req.getProtect?.() ?? false,
      inputs,
      secretPaths,
    });
    return register(req, callback);
  };

  let program: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    program = require(path.resolve(options.entry)) as Record<string, unknown>;
  } catch (error) {
    throw new ProgramError((error as Error).message, recorded);
  }
  // An export that settles to undefined is no stack output: the SDK drops undefined properties when it
  // registers the stack's outputs (pulumi/pulumi sdk/nodejs/runtime/rpc.ts, serializeFilteredProperties).
  const outputs: Record<string, StackOutput> = {};
  for (const [key, value] of Object.entries(program)) {
    const settled = await settle(pulumi, value);
    if (settled.value !== undefined) outputs[key] = settled;
  }
  // Resources whose inputs waited on other outputs register late: drain the RPC queue.
  await (pulumi.runtime as unknown as { waitForRPCs: () => Promise<void> }).waitForRPCs();
  return { resources: recorded, outputs };
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getProvider(): string;
  getDependenciesList(): string[];
  getRetainondelete?(): boolean;
  getDeletebeforereplace?(): boolean;
  getReplaceonchangesList?(): string[];
  getProtect?(): boolean;
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}

/** The same URN the mock monitor assigns (parent type chain, stack, project). */
function urnOf(options: RunOptions, parent: string | undefined, type: string, name: string): string {
  // As the SDK's mock monitor builds them (parent's own type only), so they match the dependency URNs it hands out.
  let qualified = type;
  if (parent) qualified = `${parent.split("::")[2].split("$").pop()}$${type}`;
  return `urn:pulumi:${options.stack}::${options.project}::${qualified}::${name}`;
}

async function settle(pulumi: typeof import("@pulumi/pulumi"), value: unknown): Promise<StackOutput> {
  const output = pulumi.output(value as never) as import("@pulumi/pulumi").Output<unknown>;
  const secret = await pulumi.isSecret(output);
  const resolved = await new Promise<unknown>((resolve) => output.apply((v) => resolve(v)));
  return { value: secret ? SECRET_MASK : maskSecrets(resolved, "", []), secret };
}

function maskSecrets(value: unknown, at: string, secretPaths: string[]): unknown {
  if (Array.isArray(value)) return value.map((item, index) => maskSecrets(item, `${at}[${index}]`, secretPaths));
  if (value && typeof value === "object") {
    const object = value as Record<string, unknown>;
    if (object[SIG_KEY] === SECRET_SIG) {
      secretPaths.push(at);
      return SECRET_MASK;
    }
    if (object[SIG_KEY] === RESOURCE_SIG) return { resource: object.urn };
    return Object.fromEntries(Object.entries(object).map(([key, item]) => [key, maskSecrets(item, at ? `${at}.${key}` : key, secretPaths)]));
  }
  return value;
}
