/**
 * The log shipper: one Filebeat container tailing the catalog services' log files (mounted read-only)
 * into a data stream. A central stack's shipper writes as its own writer user (to the stack's
 * Elasticsearch or an external cluster); an agent host's ships with the API key the central stack
 * made for agents. Credentials reach Filebeat only through its (secret) environment: the rendered
 * filebeat.yml names the variables, never their values.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { CoreConfig } from "../config/resolve";
import type { HostLabelConfig } from "../catalog";
import type { ServiceConfig } from "../config/stack-config";
import { DockerPlatform, requireVolume } from "../docker/platform";
import { dockerNames } from "../docker/names";
import { serviceContainer } from "../docker/service-container";
import { STACK_SERVICES } from "../stack-services";
import {
  FILEBEAT_CA_PATH,
  FILEBEAT_CONFIG_PATH,
  FILEBEAT_DATA_PATH,
  FILEBEAT_HTTP_HOST,
  FilebeatVerificationMode,
  logMounts,
  renderFilebeatConfig,
} from "./filebeat-config";

const WRITER_USERNAME_ENV = "ATRA_LOGS_WRITER_USERNAME";
const WRITER_PASSWORD_ENV = "ATRA_LOGS_WRITER_PASSWORD";
const API_KEY_ENV = "ATRA_LOGS_API_KEY";

/** How the shipper logs in: a writer user, or an API key in the `id:api_key` form Filebeat takes. */
export type ShipperCredentials = { user: string; password: pulumi.Output<string> } | { apiKey: pulumi.Output<string> };

export interface LogShipperArgs {
  /** What names, sizes and labels the container, and the host label its events carry. */
  config: Pick<CoreConfig, "stack" | "namePrefix" | "memoryMb"> & HostLabelConfig;
  platform: DockerPlatform;
  /** The catalog services with log files. */
  services: ServiceConfig[];
  /** As Filebeat reaches Elasticsearch: the stack network's container, or an external cluster. */
  elasticsearchUrl: string;
  dataStream: string;
  /** The ingest pipeline, when this stack knows its name; else the data stream's `index.default_pipeline` applies. */
  pipeline?: string;
  credentials: ShipperCredentials;
  /**
   * A private CA of an https cluster (PEM, uploaded beside the config: an external cluster's, or the stack's
   * own CA with tls on) and/or its SHA-256 fingerprint; `verificationMode` as renderFilebeatConfig takes it.
   */
  tls?: { caCertificate?: pulumi.Input<string>; caFingerprint?: string; verificationMode?: FilebeatVerificationMode };
  /** What must exist before the first line is sent (the writer, the template, the pipeline). */
  waitFor: pulumi.Input<pulumi.Resource>[];
}

/**
 * The shipper's container, parented by the caller (a central stack's LogsStack, or an agent host's
 * composition), so its URN stays where earlier versions registered it and an upgrade replaces nothing.
 */
export function logShipper(args: LogShipperArgs, opts: pulumi.CustomResourceOptions): docker.Container {
  const { config, platform, credentials, tls } = args;
  const names = dockerNames(config);
  const filebeatYml = renderFilebeatConfig({
    services: args.services,
    elasticsearchUrl: args.elasticsearchUrl,
    dataStream: args.dataStream,
    ...(args.pipeline !== undefined ? { pipeline: args.pipeline } : {}),
    host: config.prometheus.hostLabel,
    ...("apiKey" in credentials ? { apiKeyEnv: API_KEY_ENV } : { usernameEnv: WRITER_USERNAME_ENV, passwordEnv: WRITER_PASSWORD_ENV }),
    ...(tls?.caCertificate || tls?.caFingerprint || tls?.verificationMode
      ? {
          tls: {
            ...(tls.caCertificate ? { caFile: FILEBEAT_CA_PATH } : {}),
            ...(tls.caFingerprint ? { caFingerprint: tls.caFingerprint } : {}),
            ...(tls.verificationMode ? { verificationMode: tls.verificationMode } : {}),
          },
        }
      : {}),
    stack: config.stack,
  });
  const environment =
    "apiKey" in credentials
      ? credentials.apiKey.apply((key) => [`${API_KEY_ENV}=${key}`])
      : credentials.password.apply((password) => [`${WRITER_USERNAME_ENV}=${credentials.user}`, `${WRITER_PASSWORD_ENV}=${password}`]);
  const volume = requireVolume(platform.filebeatVolume, "filebeat");

  return serviceContainer(
    {
      platform,
      stack: config.stack,
      service: "filebeat",
      containerName: names.filebeat,
      memoryMb: config.memoryMb.filebeat,
      healthcheck: ["CMD-SHELL", `curl -fsS -o /dev/null http://${FILEBEAT_HTTP_HOST}:${STACK_SERVICES.filebeat.port}/`],
      waitTimeoutSeconds: 120,
      container: {
        // Root inside the container so it can read log files whatever their owner; every host mount is read-only.
        user: "root",
        envs: pulumi.secret(environment),
        uploads: [
          { file: FILEBEAT_CONFIG_PATH, content: filebeatYml },
          ...(tls?.caCertificate ? [{ file: FILEBEAT_CA_PATH, content: tls.caCertificate }] : []),
        ],
        networksAdvanced: [{ name: platform.network.name }],
        volumes: [{ volumeName: volume.name, containerPath: FILEBEAT_DATA_PATH }],
        // The log directories as bind mounts, not host-path `volumes`. The provider sends `volumes` as
        // HostConfig.Binds (`host:container:ro`) and `mounts` as HostConfig.Mounts (kreuzwerker/
        // terraform-provider-docker internal/provider/resource_docker_container_structures.go,
        // volumeSetToDockerVolumes; resource_docker_container_funcs.go, `mounts`). For a Binds entry
        // whose directory is missing the Engine creates it, owned by root, and Filebeat watches an empty
        // directory the applications may then not write to; a bind mount's source must exist (moby/moby
        // volume/mounts/linux_parser.go, validateMountConfigImpl: errBindSourceDoesNotExist), so a
        // mistyped or not yet created log directory fails `pulumi up` with its path instead.
        mounts: logMounts(args.services).map((mount) => ({ type: "bind", source: mount.hostPath, target: mount.containerPath, readOnly: true })),
      },
    },
    { ...opts, dependsOn: args.waitFor },
  );
}
