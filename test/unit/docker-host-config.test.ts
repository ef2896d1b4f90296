/**
 * `dockerHost` with a password in it is refused at its key (issue 17, item 8). The provider stores its
 * `host` in state in plain text, the stack file is in git, and an ssh:// host with a password is refused
 * at `up` anyway: the provider dials ssh:// through docker/cli's connection helper
 * (kreuzwerker/terraform-provider-docker internal/provider/config.go, connhelper.GetConnectionHelperWithSSHOpts),
 * and docker/cli cli/connhelper/ssh/ssh.go ParseURL answers "plain-text password is not supported".
 */
import { ConfigError, resolveStackConfig } from "../../components/config/resolve";
import { hostHasPassword } from "../../components/docker/config";

const PASSWORD = "hunter2-Secret";

function problems(values: Record<string, unknown>): string[] {
  try {
    resolveStackConfig({ stack: "dev", values, secretKeys: [] });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((issue) => `${issue.key}: ${issue.message}`);
    throw error;
  }
  return [];
}

describe("a password inside dockerHost", () => {
  test.each([`ssh://deploy:${PASSWORD}@docker-1.example.com`, `tcp://admin:${PASSWORD}@docker-1.example.com:2376`, `ssh://deploy:@docker-1.example.com:22`])(
    "a host with user:password@ (#%#) is refused at its key, without echoing the password",
    (dockerHost) => {
      const found = problems({ dockerHost, grafana: { providerUrl: "http://127.0.0.1:13000" }, logs: { enabled: false } });
      expect(found).toEqual([
        "atra-observability:dockerHost: must not carry a password (user:password@): it would sit in plain text in the stack file and in state; use an SSH key (ssh-agent or ~/.ssh/config) or TLS certificates",
      ]);
      expect(found.join("\n")).not.toContain(PASSWORD);
    },
  );

  test.each([
    "ssh://deploy@docker-1.example.com",
    "ssh://deploy@docker-1.example.com:2222",
    "tcp://10.0.0.5:2376",
    "unix:///var/run/docker.sock",
    "ssh://docker-1/var/run/x:y@z",
  ])("%s has no password", (dockerHost) => {
    expect(hostHasPassword(dockerHost)).toBe(false);
    expect(problems({ dockerHost, grafana: { providerUrl: "http://127.0.0.1:13000" }, logs: { enabled: false } })).toEqual([]);
  });
});
