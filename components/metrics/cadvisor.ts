/**
 * cAdvisor, the optional exporter of per-container metrics: everything about it in one place (its
 * image, memory, scrape job, its config keys `cadvisor.enabled` / `cadvisor.privileged`, and its
 * container). The metrics room runs it beside node-exporter (metrics-stack.ts) because it is listed in
 * components/stack-services.ts; nothing else names it.
 */
import { z } from "zod";
import { defineSlice, switchedOff } from "../config/slice";
import { defineStackService } from "../stack-service";

export interface CadvisorConfig {
  cadvisor: { enabled: boolean; privileged: boolean };
}

const cadvisorSlice = defineSlice({
  shape: { cadvisor: z.strictObject({ enabled: z.boolean().optional(), privileged: z.boolean().optional() }).optional() },
  switches: { cadvisor: (values) => !switchedOff(values, "cadvisor") },
  resolve: (raw, core): CadvisorConfig => ({ cadvisor: { enabled: core.enabled.cadvisor, privileged: raw.cadvisor?.privileged ?? false } }),
});

/** The Docker Engine's socket on the host, and where cAdvisor looks for it (its --docker default). */
export const CADVISOR_DOCKER_SOCKET = "/var/run/docker.sock";

export const CADVISOR_SERVICE = defineStackService({
  key: "cadvisor",
  name: "cadvisor",
  port: 8080,
  scrapeJob: "cadvisor",
  exporter: true,
  // google/cadvisor tag v0.60.5 (2026-07-11), checked 2026-12-07. Since v0.53.0 the images are published
  // on ghcr.io only: .github/workflows/publish-container.yml at v0.60.5 pushes `ghcr.io/${{ github.repository }}`
  // with tags `{{version}}` and `v{{version}}`; README.md at v0.60.5 ("for versions prior to v0.53.0, use
  // gcr.io/cadvisor/cadvisor instead"). deploy/Dockerfile's ENTRYPOINT is now deploy/entrypoint.sh,
  // which runs `exec /usr/bin/cadvisor -logtostderr "$@"`, so `command` below still reaches cadvisor;
  // the base is alpine (busybox wget for the healthcheck).
  image: "ghcr.io/google/cadvisor:v0.60.5",
  memoryMb: { dev: 256, staging: 384, prod: 512 },
  slice: cadvisorSlice,
  runs: (config: CadvisorConfig) => config.cadvisor.enabled,
  container: (config: CadvisorConfig) => ({
    healthcheckPath: "/healthz",
    waitTimeoutSeconds: 90,
    container: {
      // Read-only views of the host are enough for per-container CPU, memory and network on cgroup v2;
      // `cadvisor.privileged` adds what some hosts need for disk and OOM-event metrics.
      privileged: config.cadvisor.privileged,
      volumes: [
        { hostPath: "/", containerPath: "/rootfs", readOnly: true },
        // The Docker Engine's socket alone, not all of /var/run (which also holds containerd's socket, whose API
        // runs anything as root, and every other daemon's). cAdvisor needs the Engine's API for what makes its
        // series useful here: google/cadvisor container/docker/factory.go Register asks the Engine for its
        // version and info (no Docker factory without them, and with --docker_only=true nothing but the root
        // cgroup is then reported), CanHandleAndAccept inspects each container, and container/docker/handler.go
        // takes the container's name, labels and image from that inspect (the `name` label the dashboards and
        // the runbook filter on). The --docker flag's default is unix:///var/run/docker.sock (factory.go).
        // What this still allows: `readOnly` makes the bind mount read-only, which forbids writing the socket
        // *file*, not connect(2) on it; anyone in the cAdvisor container can call the whole Engine API
        // (create a privileged container, read every container's environment), i.e. root on the host. The
        // container runs no shell-reachable service but its HTTP UI on the stack network, so this is cAdvisor's
        // own attack surface; `cadvisor.enabled: false` removes it (docs/config-reference.md). A bind of the
        // socket file follows its inode: after a restart of dockerd with live-restore on, the socket is new and
        // cAdvisor loses the names until it restarts (without live-restore, dockerd restarts it anyway).
        { hostPath: CADVISOR_DOCKER_SOCKET, containerPath: CADVISOR_DOCKER_SOCKET, readOnly: true },
        { hostPath: "/sys", containerPath: "/sys", readOnly: true },
        { hostPath: "/var/lib/docker", containerPath: "/var/lib/docker", readOnly: true },
        // Disk names (by-id, by-uuid) for the per-device I/O metrics.
        { hostPath: "/dev/disk", containerPath: "/dev/disk", readOnly: true },
      ],
      // cAdvisor's OOM-event watcher reads the kernel log (google/cadvisor utils/oomparser/oomparser.go, New:
      // kmsgparser.NewParser, euank/go-kmsg-parser, opens /dev/kmsg); the README's quick start
      // (google/cadvisor README.md) passes `--device=/dev/kmsg` and `/dev/disk:ro`. Read-only, and given
      // explicitly because the provider reads the permissions back (kreuzwerker
      // internal/provider/resource_docker_container_structures.go, flattenDevices).
      devices: [{ hostPath: "/dev/kmsg", containerPath: "/dev/kmsg", permissions: "r" }],
      // The device alone is not enough where `kernel.dmesg_restrict=1` (the default of Debian and Ubuntu
      // kernels): opening /dev/kmsg for reading checks check_syslog_permissions(SYSLOG_ACTION_READ_ALL,
      // SYSLOG_FROM_READER), which then needs CAP_SYSLOG (torvalds/linux kernel/printk/printk.c,
      // devkmsg_open and syslog_action_restricted; Documentation/admin-guide/sysctl/kernel.rst,
      // dmesg_restrict), and Docker's default capabilities leave it out. Without it the open fails with
      // EPERM and cAdvisor reports no OOM events. The Engine only validates CapAdd and stores it as sent
      // (moby/moby oci/caps/utils.go), and the provider reads back HostConfig.CapAdd as it is
      // (kreuzwerker internal/provider/resource_docker_container_funcs.go: `capabilities.add`): written
      // in the canonical `CAP_` upper-case form so the value read back is the value sent.
      capabilities: { adds: ["CAP_SYSLOG"] },
      // All three flags exist at v0.60.5: lib/container/raw/factory.go (docker_only),
      // lib/cadvisorflags/flags.go (housekeeping_interval), cmd/cadvisor.go (store_container_labels).
      command: ["--docker_only=true", "--housekeeping_interval=15s", "--store_container_labels=false"],
    },
  }),
});
