/**
 * Why Filebeat's log directories are `mounts` of type bind and not host-path `volumes`
 * (components/logs/log-shipper.ts), on the real Docker Engine: the provider sends `mounts` as
 * HostConfig.Mounts and host-path `volumes` as HostConfig.Binds (kreuzwerker/terraform-provider-docker
 * internal/provider/resource_docker_container_funcs.go; resource_docker_container_structures.go,
 * volumeSetToDockerVolumes), as the CLI sends `--mount type=bind` and `-v`. A bind mount of a missing
 * directory is refused (moby/moby volume/mounts/linux_parser.go, validateMountConfigImpl:
 * errBindSourceDoesNotExist); a Binds entry of a missing directory is created, owned by root.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildBusyboxImage, describeWithDocker, docker, dockerTry, removeById } from "../support/docker";

describeWithDocker("a missing log directory, as a bind mount and as a Binds entry", () => {
  let image: { ref: string; id: string } | undefined;
  let dir: string;
  const containers: string[] = [];
  beforeAll(() => {
    image = buildBusyboxImage();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "atra-bind-"));
  });
  afterAll(() => {
    removeById("container", containers);
    removeById("image", [image?.id]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("the bind mount is refused with the path; the Binds entry silently creates the directory as root", () => {
    const missing = path.join(dir, "logs-missing");
    const refused = dockerTry(["create", "--mount", `type=bind,source=${missing},target=/logs,readonly`, image!.ref, "true"]);
    expect(refused.status).not.toBe(0);
    expect(refused.output).toContain(`bind source path does not exist: ${missing}`);
    expect(fs.existsSync(missing)).toBe(false);

    const created = path.join(dir, "logs-created");
    const id = docker(["create", "-v", `${created}:/logs:ro`, image!.ref, "true"]);
    containers.push(id);
    docker(["start", id]);
    expect(fs.statSync(created).isDirectory()).toBe(true);
    expect(fs.statSync(created).uid).toBe(0);

    // An existing directory mounts either way.
    const present = path.join(dir, "logs-present");
    fs.mkdirSync(present);
    const mounted = docker(["create", "--mount", `type=bind,source=${present},target=/logs,readonly`, image!.ref, "true"]);
    containers.push(mounted);
    const inspected = JSON.parse(docker(["inspect", "--format", "{{json .HostConfig.Mounts}}", mounted])) as Record<string, unknown>[];
    // Stored as sent: the provider reads back type, source, target and read_only, and no bind_options (none sent).
    expect(inspected).toEqual([{ Type: "bind", Source: present, Target: "/logs", ReadOnly: true }]);
  }, 60_000);
});

/**
 * cAdvisor's /dev/kmsg (components/metrics/metrics-stack.ts): the device is opened for reading through
 * devkmsg_open -> check_syslog_permissions(SYSLOG_ACTION_READ_ALL, SYSLOG_FROM_READER) (torvalds/linux
 * kernel/printk/printk.c), which needs CAP_SYSLOG when kernel.dmesg_restrict is 1. Here, in a real
 * container given the device read-only as cAdvisor's is, as root: refused without the capability (on
 * such a host), opened with it.
 */
describeWithDocker("/dev/kmsg in a container, as cAdvisor gets it", () => {
  let image: { ref: string; id: string } | undefined;
  const containers: string[] = [];
  beforeAll(() => {
    image = buildBusyboxImage();
  });
  afterAll(() => {
    removeById("container", containers);
    removeById("image", [image?.id]);
  });

  const readKmsg = (extra: string[]) => {
    // One record with a buffer larger than any record (/dev/kmsg refuses a read into a shorter one); the
    // kernel always has records from boot, so the read does not wait.
    const name = `atra-kmsg-${Math.random().toString(36).slice(2)}`;
    containers.push(name);
    return dockerTry([
      "run",
      "--name",
      name,
      "--user",
      "root",
      "--device",
      "/dev/kmsg:/dev/kmsg:r",
      ...extra,
      image!.ref,
      "sh",
      "-c",
      "busybox dd if=/dev/kmsg of=/dev/null bs=16384 count=1 2>/dev/null && echo opened || { busybox dd if=/dev/kmsg of=/dev/null bs=16384 count=1; exit 1; }",
    ]);
  };

  test("opened with CAP_SYSLOG; without it refused where dmesg_restrict=1", () => {
    const restricted = fs.readFileSync("/proc/sys/kernel/dmesg_restrict", "utf8").trim() === "1";
    const without = readKmsg([]);
    const withCap = readKmsg(["--cap-add", "CAP_SYSLOG"]);
    expect(withCap).toEqual({ status: 0, output: "opened" });
    if (restricted) {
      expect(without.status).not.toBe(0);
      expect(without.output).toMatch(/Operation not permitted/);
    } else {
      expect(without.status).toBe(0);
    }
  }, 60_000);
});
