/**
 * The real Docker Engine stores what the program sends for healthchecks and memory in a form the
 * provider reads back unchanged: for every container of every shipped stack, a container is created
 * (never started) on the engine with the planned healthcheck durations, memory and swap, inspected,
 * and read the way the provider reads it (kreuzwerker/terraform-provider-docker
 * internal/provider/resource_docker_container_funcs.go, resourceDockerContainerRead: durations
 * through Go's Duration.String, memory and memory_swap divided down to MB).
 */
import type { PlannedResource } from "../../scripts/lib/mock-engine";
import { listStacks } from "../../scripts/lib/stack-file";
import { planIsolated, PROJECT_DIR } from "../support/plan";
import { buildBusyboxImage, describeWithDocker, docker, removeById } from "../support/docker";
import { goDurationString } from "../../components/docker/read-back-forms";

interface Inspected {
  Config: { Healthcheck: { Interval?: number; Timeout?: number; StartPeriod?: number; Retries: number } };
  HostConfig: { Memory: number; MemorySwap: number };
}

/** What the provider's read puts into state, from `docker inspect`. */
function asProviderReadsIt(inspected: Inspected) {
  const healthcheck = inspected.Config.Healthcheck;
  // The Engine API omits zero durations (Go's omitempty): the provider then reads Go's zero value, 0s.
  const duration = (nanoseconds: number | undefined) => goDurationString(BigInt(nanoseconds ?? 0));
  return {
    interval: duration(healthcheck.Interval),
    timeout: duration(healthcheck.Timeout),
    startPeriod: duration(healthcheck.StartPeriod),
    retries: healthcheck.Retries,
    memory: inspected.HostConfig.Memory / 1024 / 1024,
    memorySwap: inspected.HostConfig.MemorySwap > 0 ? inspected.HostConfig.MemorySwap / 1024 / 1024 : inspected.HostConfig.MemorySwap,
  };
}

describeWithDocker("healthchecks and memory as the real engine stores them", () => {
  let image: { ref: string; id: string };
  const created: string[] = [];
  // Each container is removed as soon as it is inspected, so a run killed midway leaves at most one.
  const create = (args: string[]) => {
    const id = docker(["create", "--label", "atra-observability.test=read-back", ...args, image.ref, "sh"]);
    created.push(id);
    try {
      return JSON.parse(docker(["inspect", id]))[0] as Inspected;
    } finally {
      removeById("container", [id]);
    }
  };

  beforeAll(() => {
    image = buildBusyboxImage();
  });
  afterAll(() => {
    removeById("container", created);
    removeById("image", [image?.id]);
  });

  test.each(listStacks(PROJECT_DIR))("every container of %s reads back exactly as planned", async (stack) => {
    const containers = (await planIsolated(stack)).run.resources.filter((resource: PlannedResource) => resource.type === "docker:index/container:Container");
    expect(containers.length).toBeGreaterThan(3);
    for (const container of containers) {
      const { interval, timeout, startPeriod, retries } = container.inputs.healthcheck as {
        interval: string;
        timeout: string;
        startPeriod: string;
        retries: number;
      };
      const planned = { interval, timeout, startPeriod, retries, memory: container.inputs.memory as number, memorySwap: container.inputs.memorySwap as number };
      const inspected = create([
        "--health-cmd=true",
        `--health-interval=${planned.interval}`,
        `--health-timeout=${planned.timeout}`,
        `--health-start-period=${planned.startPeriod}`,
        `--health-retries=${planned.retries}`,
        `--memory=${planned.memory}m`,
        `--memory-swap=${planned.memorySwap}m`,
      ]);
      expect({ container: container.name, ...asProviderReadsIt(inspected) }).toEqual({ container: container.name, ...planned });
    }
  });

  test("the two drifts the program avoids are real: 60s reads back as 1m0s, and memory alone gets twice the swap", () => {
    const read = asProviderReadsIt(create(["--health-cmd=true", "--health-interval=60s", "--health-timeout=5s", "--memory=128m"]));
    expect(read.interval).toBe("1m0s");
    expect([read.memory, read.memorySwap]).toEqual([128, 256]);
  });
});

/**
 * Issue 21, `images.<key>: repo:tag@sha256:...` (components/config/image-versions.ts imageDigestIssues): the
 * Docker provider first asks the Engine for the image by its full name (kreuzwerker/terraform-provider-docker
 * internal/provider/resource_docker_image_funcs.go findImage -> searchLocalImages -> ImageInspectWithRaw) and
 * pulls only when that fails. The real Engine looks a tag+digest reference up by its digest alone, so a local
 * image that only has the same tag is not taken for it (the pull that follows is by digest, checked against
 * it: moby/moby client/image_pull.go getAPITagFromNamedRef). Nothing can be pulled here (no registry): the
 * lookup is what this shows.
 */
describeWithDocker("a tag+digest image reference as the real engine resolves it", () => {
  let image: { ref: string; id: string };
  beforeAll(() => {
    image = buildBusyboxImage();
  });
  afterAll(() => removeById("image", [image?.id]));

  test("the same tag with another digest is not found locally, so the provider would pull by the digest", () => {
    expect(docker(["image", "inspect", "--format", "{{.Id}}", image.ref])).toBe(image.id);
    const otherDigest = `sha256:${"0".repeat(64)}`;
    let failure = "";
    try {
      docker(["image", "inspect", "--format", "{{.Id}}", `${image.ref}@${otherDigest}`]);
    } catch (error) {
      failure = String((error as { stderr?: string }).stderr ?? error);
    }
    expect(failure).toMatch(/no such image/i);
  });
});
