/**
 * Which Docker daemon `pulumi up` changes: the program refuses a set DOCKER_CONTEXT before the Docker
 * provider exists, because the provider would follow it and ignore `dockerHost`
 * (kreuzwerker/terraform-provider-docker v4.5.0 internal/provider/provider.go: `context` defaults from
 * DOCKER_CONTEXT, and configure() takes the context's host whenever a context is named, "Overrides the
 * `host` if set"; @pulumi/docker 5.x bridges that version, pulumi/pulumi-docker's `upstream` submodule).
 * Without it, the provider gets `dockerHost`, else (SDK and provider alike) DOCKER_HOST, else the local
 * socket, which is the host the preflight asks (components/docker/host.ts).
 */
import * as fs from "fs";
import * as path from "path";
import { ProgramError, PlannedResource } from "../../scripts/lib/mock-engine";
import { dockerContextHost, dockerHostInUse } from "../../components/docker/host";
import { planIsolated, stackConfig } from "../support/plan";
import { tempDir } from "../support/real-tools";

/** TLS material for the tcp:// hosts below (a tcp:// host without it is refused: test/unit/docker-host-config.test.ts). */
const CERT_PATH = "/home/ops/.docker/docker-1";
// A Docker host on another machine needs the Grafana provider URL (components/grafana/config.ts).
const VALUES = {
  services: [{ name: "api", metrics: "http://api:8000/metrics" }],
  logs: { enabled: false },
  grafana: { providerUrl: "http://127.0.0.1:13000" },
};

/** Run `body` with these environment variables set (undefined: removed), restoring them after. */
async function withEnv<T>(vars: Record<string, string | undefined>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  apply(vars);
  try {
    return await body();
  } finally {
    apply(saved);
  }
}

const provider = (resources: PlannedResource[]) => {
  const found = resources.find((resource) => resource.type === "pulumi:providers:docker");
  if (!found) throw new Error("no Docker provider in the plan");
  return found;
};

describe("DOCKER_CONTEXT and dockerHost", () => {
  test("a set DOCKER_CONTEXT stops the program before the Docker provider or any Docker object exists", async () => {
    let message = "";
    let registered: PlannedResource[] = [];
    await withEnv({ DOCKER_CONTEXT: "remote", DOCKER_HOST: undefined }, async () => {
      try {
        await planIsolated("dev", { config: stackConfig({ ...VALUES, dockerHost: "tcp://docker-1.example.com:2376", dockerCertPath: CERT_PATH }) });
      } catch (error) {
        // The program ran in an isolated module registry: its ProgramError is another class object.
        expect((error as Error).constructor.name).toBe(ProgramError.name);
        message = (error as Error).message;
        registered = (error as ProgramError).resources;
      }
    });
    expect(message).toContain('Docker host of stack "dev": 1 problem; nothing was created or changed');
    expect(message).toContain(
      "DOCKER_CONTEXT=remote is set: the Docker provider would deploy to the context's host and ignore tcp://docker-1.example.com:2376 (dockerHost in Pulumi.dev.yaml)",
    );
    expect(message).toContain("Unset it (unset DOCKER_CONTEXT)");
    expect(registered.filter((resource) => resource.type.startsWith("docker:") || resource.type === "pulumi:providers:docker")).toEqual([]);
  });

  test("an empty DOCKER_CONTEXT is no context (the provider's EnvDefaultFunc reads it as unset)", async () => {
    const plan = await withEnv({ DOCKER_CONTEXT: "", DOCKER_HOST: undefined }, () =>
      planIsolated("dev", { config: stackConfig({ ...VALUES, dockerHost: "tcp://docker-1.example.com:2376", dockerCertPath: CERT_PATH }) }),
    );
    expect(provider(plan.run.resources).inputs.host).toBe("tcp://docker-1.example.com:2376");
  });

  test("without a context the provider gets dockerHost over DOCKER_HOST, else DOCKER_HOST: the host the preflight asks", async () => {
    const configured = await withEnv({ DOCKER_CONTEXT: undefined, DOCKER_HOST: "tcp://10.0.0.9:2376" }, () =>
      planIsolated("dev", { config: stackConfig({ ...VALUES, dockerHost: "tcp://docker-1.example.com:2376", dockerCertPath: CERT_PATH }) }),
    );
    expect(provider(configured.run.resources).inputs.host).toBe("tcp://docker-1.example.com:2376");
    expect(dockerHostInUse("dev", "tcp://docker-1.example.com:2376", { DOCKER_HOST: "tcp://10.0.0.9:2376" }).host).toBe("tcp://docker-1.example.com:2376");

    const fromEnv = await withEnv({ DOCKER_CONTEXT: undefined, DOCKER_HOST: "tcp://10.0.0.9:2376", DOCKER_CERT_PATH: CERT_PATH }, () =>
      planIsolated("dev", { config: stackConfig(VALUES) }),
    );
    // The SDK sends `args.host ?? getEnv("DOCKER_HOST")` (node_modules/@pulumi/docker/provider.js).
    expect(provider(fromEnv.run.resources).inputs.host).toBe("tcp://10.0.0.9:2376");
    expect(dockerHostInUse("dev", undefined, { DOCKER_HOST: "tcp://10.0.0.9:2376" })).toEqual({
      host: "tcp://10.0.0.9:2376",
      from: "DOCKER_HOST",
      description: "tcp://10.0.0.9:2376 (DOCKER_HOST; the stack sets no dockerHost)",
    });
    expect(dockerHostInUse("dev", undefined, {}).host).toBe("unix:///var/run/docker.sock");
  });
});

describe("TLS to a tcp:// Docker host (issue 21)", () => {
  const KEY = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIKx1H0OIjhTPXXFpZ0nLPPy6bX2H5ATNiLSpcG8rDkWm\n-----END PRIVATE KEY-----\n";
  const CERT = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

  test("the PEMs reach the provider's ca_material/cert_material/key_material, the key only as a secret", async () => {
    const plan = await withEnv({ DOCKER_CONTEXT: undefined, DOCKER_HOST: undefined }, () =>
      planIsolated("dev", {
        config: stackConfig(
          { ...VALUES, dockerHost: "tcp://docker-1.example.com:2376", dockerCaCertificate: CERT, dockerClientCertificate: CERT, dockerClientKey: KEY },
          ["dockerClientKey"],
        ),
      }),
    );
    const docker = provider(plan.run.resources);
    expect(docker.inputs).toMatchObject({ host: "tcp://docker-1.example.com:2376", caMaterial: CERT, certMaterial: CERT });
    expect(docker.secretPaths).toEqual(["keyMaterial"]);
    expect(JSON.stringify(docker.inputs)).not.toContain("MC4CAQAwBQYDK2VwBCIEIKx1H0OIjhTPXXFpZ0nLPPy6bX2H5ATNiLSpcG8rDkWm");
  });

  test("dockerCertPath reaches the provider's cert_path", async () => {
    const plan = await withEnv({ DOCKER_CONTEXT: undefined, DOCKER_HOST: undefined }, () =>
      planIsolated("dev", { config: stackConfig({ ...VALUES, dockerHost: "tcp://docker-1.example.com:2376", dockerCertPath: CERT_PATH }) }),
    );
    expect(provider(plan.run.resources).inputs).toMatchObject({ certPath: CERT_PATH });
  });

  test("DOCKER_HOST=tcp:// without TLS material stops the program before the provider exists", async () => {
    let message = "";
    let registered: PlannedResource[] = [];
    await withEnv({ DOCKER_CONTEXT: undefined, DOCKER_HOST: "tcp://10.0.0.9:2375", DOCKER_CERT_PATH: undefined }, async () => {
      try {
        await planIsolated("dev", { config: stackConfig(VALUES) });
      } catch (error) {
        message = (error as Error).message;
        registered = (error as ProgramError).resources;
      }
    });
    expect(message).toContain("DOCKER_HOST=tcp://10.0.0.9:2375 is tcp:// without TLS");
    expect(registered.filter((resource) => resource.type === "pulumi:providers:docker")).toEqual([]);
  });
});

describe("the context's host, found as the provider finds it", () => {
  test("meta.json under <home>/.docker/contexts/meta whose Name matches (provider.go getContextHost)", () => {
    const home = tempDir("atra-docker-home-");
    try {
      // The layout `docker context create` writes: meta/<sha256 of the name>/meta.json.
      const write = (dir: string, meta: unknown) => {
        fs.mkdirSync(path.join(home, ".docker/contexts/meta", dir), { recursive: true });
        fs.writeFileSync(path.join(home, ".docker/contexts/meta", dir, "meta.json"), typeof meta === "string" ? meta : JSON.stringify(meta));
      };
      write("0a1b", { Name: "remote", Metadata: {}, Endpoints: { docker: { Host: "ssh://ops@docker-2.example.com", SkipTLSVerify: false } } });
      write("ffff", "not json");
      expect(dockerContextHost("remote", home)).toBe("ssh://ops@docker-2.example.com");
      // `default` has no meta file: the provider fails with "context 'default' not found".
      expect(dockerContextHost("default", home)).toBeUndefined();
      expect(dockerContextHost("remote", path.join(home, "nowhere"))).toBeUndefined();
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
