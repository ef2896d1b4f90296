/**
 * Kibana's secrets file (components/logs/kibana-secrets.ts): YAML that reads back as exactly the four settings,
 * whatever characters a value holds, and a refusal of what Kibana would substitute from its environment
 * (`${NAME}`, elastic/kibana src/platform/packages/shared/kbn-config/src/raw/utils.ts replaceEnvVarRefs).
 */
import * as yaml from "js-yaml";
import { KIBANA_COMMAND, KIBANA_DEFAULT_CONFIG_PATH, KIBANA_SECRETS_CONFIG_PATH, kibanaSecretsYml } from "../../components/logs/kibana-secrets";

const SECRETS = {
  elasticsearchPassword: `pa"ss: #word' \\ with yaml: [meta] {chars} & *alias`,
  securityKey: "k".repeat(48),
  savedObjectsKey: "s".repeat(48),
  reportingKey: "r".repeat(48),
};

test("reads back as the four settings, values verbatim", () => {
  expect(yaml.load(kibanaSecretsYml(SECRETS))).toEqual({
    "elasticsearch.password": SECRETS.elasticsearchPassword,
    "xpack.security.encryptionKey": SECRETS.securityKey,
    "xpack.encryptedSavedObjects.encryptionKey": SECRETS.savedObjectsKey,
    "xpack.reporting.encryptionKey": SECRETS.reportingKey,
  });
});

test("a value Kibana would rewrite from its environment, or a line break, is refused, naming the setting", () => {
  expect(() => kibanaSecretsYml({ ...SECRETS, reportingKey: "abc${HOME}def" })).toThrow(/xpack\.reporting\.encryptionKey must not hold "\$\{"/);
  expect(() => kibanaSecretsYml({ ...SECRETS, elasticsearchPassword: "a\nb" })).toThrow(/elasticsearch\.password/);
});

test("the command: the image's launcher with the image's kibana.yml first, then the secrets file, and no secret", () => {
  expect(KIBANA_COMMAND).toEqual(["/usr/local/bin/kibana-docker", "--config", KIBANA_DEFAULT_CONFIG_PATH, "--config", KIBANA_SECRETS_CONFIG_PATH]);
});
