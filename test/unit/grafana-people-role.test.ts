/**
 * People's Grafana login is a Viewer by default (issue 21 review, M1): an Editor can silence every alert and change
 * contact points (grafana/grafana pkg/services/ngalert/accesscontrol.go grants the alerting writers to Editor).
 * Viewer gets Explore through `[users] viewers_can_edit` (pkg/api/accesscontrol.go declareFixedRoles: the setting only
 * adds Viewer to `fixed:datasources:explorer`); Editor is an opt-in key (grafana.peopleRole).
 */
import { ConfigError, resolveStackConfig } from "../../components/config/resolve";
import { grafanaPeopleRoleSettings } from "../../components/grafana/grafana-server";

function resolve(values: Record<string, unknown>) {
  return resolveStackConfig({ stack: "dev", values: { logs: { enabled: false }, ...values }, secretKeys: [] });
}
function problems(values: Record<string, unknown>, secretKeys: string[] = []): string[] {
  try {
    resolveStackConfig({ stack: "dev", values: { logs: { enabled: false }, ...values }, secretKeys });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((issue) => `${issue.key}: ${issue.message}`);
    throw error;
  }
  return [];
}

describe("people's Grafana role", () => {
  test("Viewer by default, with Explore (viewers_can_edit); Editor only when asked, without it", () => {
    expect(resolve({}).config.grafana.peopleRole).toBe("Viewer");
    expect(grafanaPeopleRoleSettings("Viewer")).toEqual(["GF_USERS_AUTO_ASSIGN_ORG_ROLE=Viewer", "GF_USERS_VIEWERS_CAN_EDIT=true"]);
    expect(resolve({ grafana: { peopleRole: "Editor" } }).config.grafana.peopleRole).toBe("Editor");
    expect(grafanaPeopleRoleSettings("Editor")).toEqual(["GF_USERS_AUTO_ASSIGN_ORG_ROLE=Editor"]);
  });

  test("another role is refused at its key; with an external Grafana the key is refused (its users are its own)", () => {
    expect(problems({ grafana: { peopleRole: "Admin" } })).toEqual(["atra-observability:grafana.peopleRole: must be Viewer or Editor"]);
    const external = problems(
      {
        grafana: { external: { url: "https://grafana.example.com" }, peopleRole: "Editor" },
        grafanaApiToken: "t0ken",
        prometheus: { external: { queryUrl: "https://prom.example.com" } },
      },
      ["grafanaApiToken"],
    );
    expect(external).toContain(
      "atra-observability:grafana.peopleRole: is for the stack's own Grafana, where the stack makes people's login; an external Grafana's users are its own: remove grafana.peopleRole",
    );
  });
});
