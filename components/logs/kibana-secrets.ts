/**
 * Kibana's secrets (its Elasticsearch password and its three encryption keys) as a config file of
 * their own, never as environment variables of the container.
 *
 * Why not the environment: the image's launcher turns every environment variable named after a
 * setting it knows (ELASTICSEARCH_PASSWORD, XPACK_SECURITY_ENCRYPTIONKEY,
 * XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY, XPACK_REPORTING_ENCRYPTIONKEY among them) into a
 * `--<setting>=<value>` argument of the Kibana process (elastic/kibana src/dev/build/tasks/os_packages/
 * docker_generator/resources/base/bin/kibana-docker: `kibana_vars`, then `longopts+=" --${kibana_var}=${value}"`
 * and `exec /usr/share/kibana/bin/kibana ... ${longopts} "$@"`), and a process's arguments are readable by
 * every local account (/proc/<pid>/cmdline).
 *
 * Why a second file and not a replaced kibana.yml: the image's own kibana.yml holds defaults Kibana needs
 * in a container (elastic/kibana src/dev/build/tasks/os_packages/docker_generator/templates/
 * kibana_yml.template.ts: `server.host: "0.0.0.0"`, `server.shutdownTimeout`, and more in later versions);
 * replacing it would have to copy them per image version. Kibana reads every `--config` file given, later
 * ones over earlier ones (src/cli/serve/serve.js: `-c, --config <path>`, "use multiple --config args to
 * include multiple config files"; a `--config` given replaces the default path, so both are named), and the
 * launcher passes its own arguments on (`"$@"`). So the container's command is the launcher with the image's
 * kibana.yml and this file.
 *
 * Why not the Kibana keystore: filling it needs `kibana-keystore add --stdin` at every start, from a secret
 * that would again have to reach the container somewhere; the file is the secret's one place.
 *
 * Why not `${VAR}` references to other variables: Kibana substitutes `${NAME}` in config values from its
 * environment (elastic/kibana src/platform/packages/shared/kbn-config/src/raw/utils.ts replaceEnvVarRefs,
 * applied by read_config.ts to every string value), which would keep
 * the argv clean but leave the secrets in the container's environment (`docker inspect`). The same
 * substitution is why a value here must not hold `${`: Kibana would replace it (or fail on an unknown name).
 */

/** Where the image's launcher is and its default config (elastic/kibana ... templates/base/Dockerfile: `COPY bin/kibana-docker /usr/local/bin/`, `COPY ... config/kibana.yml /usr/share/kibana/config/kibana.yml`, `CMD ["/usr/local/bin/kibana-docker"]`). */
export const KIBANA_LAUNCHER = "/usr/local/bin/kibana-docker";
export const KIBANA_DEFAULT_CONFIG_PATH = "/usr/share/kibana/config/kibana.yml";
/**
 * Uploaded beside kibana.yml, 0440 root:root: Kibana runs as uid 1000 with group 0 among its groups
 * (logs-tls.ts says where that is read), so it reads the file through its group; no other account of the
 * container does.
 */
export const KIBANA_SECRETS_CONFIG_PATH = "/usr/share/kibana/config/atra-secrets.yml";

/** The container's command: the image's launcher reading the image's kibana.yml, then the secrets file. */
export const KIBANA_COMMAND = [KIBANA_LAUNCHER, "--config", KIBANA_DEFAULT_CONFIG_PATH, "--config", KIBANA_SECRETS_CONFIG_PATH];

export interface KibanaSecrets {
  /** `kibana_system`'s password. */
  elasticsearchPassword: string;
  /** `xpack.security.encryptionKey` (sessions), `xpack.encryptedSavedObjects.encryptionKey`, `xpack.reporting.encryptionKey`: 32 characters at least. */
  securityKey: string;
  savedObjectsKey: string;
  reportingKey: string;
}

/** The secrets file: YAML, each value a double-quoted (JSON) string, which YAML reads as the same string. */
export function kibanaSecretsYml(secrets: KibanaSecrets): string {
  const settings: [string, string][] = [
    ["elasticsearch.password", secrets.elasticsearchPassword],
    ["xpack.security.encryptionKey", secrets.securityKey],
    ["xpack.encryptedSavedObjects.encryptionKey", secrets.savedObjectsKey],
    ["xpack.reporting.encryptionKey", secrets.reportingKey],
  ];
  const bad = settings.filter(([, value]) => value.includes("${") || /[\r\n]/.test(value)).map(([setting]) => setting);
  if (bad.length > 0) throw new Error(`kibanaSecretsYml: ${bad.join(", ")} must not hold "\${" (Kibana substitutes it from its environment) or a line break`);
  return [
    "# Written by atra-observability: Kibana's secrets, never in its environment or arguments.",
    ...settings.map(([setting, value]) => `${setting}: ${JSON.stringify(value)}`),
    "",
  ].join("\n");
}
