/**
 * The data stream's final pipeline (`index.final_pipeline`): `host.name` comes from the API key a document
 * was sent with, not from the sender. Pure: the dynamic provider PUTs the body as it is.
 *
 * Why a final pipeline: a bulk request may name any pipeline, `_none` included, in place of the index's
 * `default_pipeline`, but nothing in a request replaces or skips `index.final_pipeline`
 * (elastic/elasticsearch server/src/main/java/org/elasticsearch/ingest/IngestService.java, resolvePipelines:
 * the request's pipeline goes to setPipeline only, setFinalPipeline takes the index setting alone), and
 * it runs after whichever pipeline ran first (IngestService.executePipelines: the default or requested
 * pipeline, then the final one).
 *
 * What it does, in order:
 * 0. expands every root field name with a dot into the objects it names (dot_expander, field `*`, override true;
 *    elastic/elasticsearch modules/ingest-common/src/main/java/org/elasticsearch/ingest/common/DotExpanderProcessor.java).
 *    Ingest field paths walk nested objects, so `remove host` and `set host.name` never touch a root key named
 *    `host.name`, yet the mapper reads that key as `host: {name}` next to the `host` object and indexes the values of
 *    both (server/src/main/java/org/elasticsearch/index/mapper/DotExpandingXContentParser.java; server/src/test/java/
 *    org/elasticsearch/index/mapper/DocumentParserTests.java, testDotsWithExistingMapper): without this step an agent
 *    could still write lines as another host (fake ServiceLogErrorsHigh, hide ServiceStoppedLogging). Expanded, every
 *    `host.*` and `atra_authenticated.*` root key is under the object steps 1 and 3 remove. `override: true`: a dotted
 *    name replaces the nested value it meets instead of joining it in a list, so a dotted `service.name` or
 *    `log.level` is exactly the nested claim (one value), never two services or levels for one line. Chosen over a
 *    script (`ctx.keySet().removeIf(...)`, which the ingest ctx allows: server/src/main/java/org/elasticsearch/script/
 *    CtxMap.java, EntrySetIterator.remove) because it is declarative, needs no script compilation, and the test double
 *    models it from that source. A root key that cannot be expanded (`host.name` while `host` is a string) fails the
 *    document into the failure store (LogIngestFailures), never indexing the claim.
 * 1. removes `atra_authenticated` (AUTHENTICATED_FIELD), so a sender cannot pre-fill what step 2 reads:
 *    set_security_user merges into an existing object (SetSecurityUserProcessor.execute: `fieldValue
 *    instanceof Map ? fieldValue : new HashMap`);
 * 2. set_security_user with the one property `api_key` (elastic/elasticsearch x-pack/plugin/security/src/
 *    main/java/org/elasticsearch/xpack/security/ingest/SetSecurityUserProcessor.java): for a request
 *    authenticated by an API key it writes `api_key.{name, id, metadata}` (metadata only when the key has
 *    some: ApiKeyService.getApiKeyMetadata); for any other authentication nothing, and the field is set to
 *    an empty object;
 * 3. a document sent with an API key that names its host (`atra_host`, renderAgentApiKey): the sender's
 *    whole `host` object goes (its other `host.*` fields are claims too) and `host.name` is the key's host;
 * 4. a document sent with an API key that names no host is failed (the `fail` processor): it goes to the
 *    failure store with the reason, where LogIngestFailures sees it. Only the agents' keys write here; any
 *    other key (a hand-made one, a provider's) has no business writing log lines;
 * 5. a document sent with an agent's key whose `service.name` is set and is not one of the key's services
 *    (metadata `atra_services`, the host's agents[].services: renderAgentApiKey) is failed the same way. A line
 *    without `service.name` is kept: it counts towards no service's alerts (host-level lines). The metadata is read
 *    as set_security_user hands it over: ApiKeyService.getApiKeyMetadata parses the key's stored metadata with
 *    XContentHelper.convertToMap, so a JSON array is a java.util.List (ArrayList), and `contains` (allowed to Painless:
 *    modules/lang-painless/src/main/resources/org/elasticsearch/painless/spi/java.util.txt, java.util.Collection) compares with
 *    String.equals: a `service.name` that is not one string (a list, a number) matches nothing and fails. A key
 *    with no `atra_services` (made before it existed) refuses every `service.name` until the next `up` updates it.
 *    A `service` that is not one object (a list of objects, a string) fails too: the mapper indexes each object of an
 *    array against the `service` object mapper (elastic/elasticsearch server/src/main/java/org/elasticsearch/index/
 *    mapper/DocumentParser.java, parseNonDynamicArray), so `"service": [{"name": "api"}]` would land as service.name=api
 *    unchecked, and step 0 expands root keys only (DotExpanderProcessor.java, field `*`), never inside a list;
 * 6. removes `atra_authenticated` again: nothing of the authentication is indexed.
 * A document sent without an API key (a native user: the central stack's own Filebeat as the writer user,
 * LogsStack.shipper) gets `host.name` = the central stack's host label (step 3b, `host_of_central`). That is what
 * the central Filebeat sends anyway (filebeat-config.ts: a global add_fields sets host.name to prometheus.hostLabel on
 * every event, overwriting), so nothing changes for it; whoever else holds the writer's password (an output) cannot
 * write lines as an agent host. Its other `host.*` fields and its `service.name` are not checked: the writer is the
 * central's own shipper, whose services are the central catalog's (not modelled: a per-user service list).
 *
 * `service.name` is checked against the host's own services (step 5): an agent host cannot write lines for a service
 * it does not run, so it can neither fake another service's ServiceLogErrorsHigh nor feed the lines of one that has
 * stopped. A dotted `service.name` is the same claim as a nested one (step 0), checked the same way.
 *
 * The pipeline has no `on_failure`: a failure here must not index the document with the sender's host. With
 * the data stream's failure store on, the document is kept there as it arrived (docs-content
 * failure-store.md: ingest pipeline failures, the final pipeline's included, are redirected).
 */
import type { IngestPipelineBody } from "../elastic/request-bodies";

/** The API key metadata key that names an agent's host (renderAgentApiKey writes it). */
export const AGENT_HOST_METADATA = "atra_host";

/** Where set_security_user writes while the pipeline runs (removed before and after; never indexed). */
export const AUTHENTICATED_FIELD = "atra_authenticated";

/** The API key metadata key that lists an agent host's services (agents[].services; renderAgentApiKey writes it). */
export const AGENT_SERVICES_METADATA = "atra_services";

const API_KEY = `ctx.${AUTHENTICATED_FIELD}?.api_key`;

/** `centralHost`: the central stack's host label (prometheus.hostLabel), which its own Filebeat writes into every line's host.name. */
export function renderHostIdentityPipeline(centralHost: string): IngestPipelineBody {
  const hostFromKey = `${AUTHENTICATED_FIELD}.api_key.metadata.${AGENT_HOST_METADATA}`;
  return {
    description:
      "host.name from the API key the document was sent with (its metadata atra_host); documents of other API keys, or with a service.name not in the key's atra_services, fail (managed by atra-observability)",
    _meta: { managed_by: "atra-observability" },
    processors: [
      { dot_expander: { tag: "expand_dotted_names", field: "*", override: true } },
      { remove: { tag: "drop_claimed_authentication", field: AUTHENTICATED_FIELD, ignore_missing: true } },
      { set_security_user: { tag: "authenticated_api_key", field: AUTHENTICATED_FIELD, properties: ["api_key"] } },
      {
        remove: {
          tag: "drop_claimed_host",
          if: `${API_KEY}?.metadata?.${AGENT_HOST_METADATA} instanceof String`,
          field: "host",
          ignore_missing: true,
        },
      },
      { set: { tag: "host_from_api_key", if: `${API_KEY}?.metadata?.${AGENT_HOST_METADATA} instanceof String`, field: "host.name", copy_from: hostFromKey } },
      { set: { tag: "host_of_central", if: `!(${API_KEY} instanceof Map)`, field: "host.name", value: centralHost } },
      {
        fail: {
          tag: "api_key_without_host",
          if: `${API_KEY} instanceof Map && !(${API_KEY}?.metadata?.${AGENT_HOST_METADATA} instanceof String)`,
          message: `API key [{{{${AUTHENTICATED_FIELD}.api_key.name}}}] names no host (metadata ${AGENT_HOST_METADATA}): only the agents' keys may write here`,
        },
      },
      {
        fail: {
          tag: "service_not_of_host",
          if:
            `${API_KEY}?.metadata?.${AGENT_HOST_METADATA} instanceof String && ctx.service != null && (!(ctx.service instanceof Map) || (ctx.service.name != null` +
            ` && !(${API_KEY}?.metadata?.${AGENT_SERVICES_METADATA} instanceof List && ${API_KEY}?.metadata?.${AGENT_SERVICES_METADATA}.contains(ctx.service.name))))`,
          message: `service.name is not one of host [{{{${AUTHENTICATED_FIELD}.api_key.metadata.${AGENT_HOST_METADATA}}}}]'s services (agents[].services, API key metadata ${AGENT_SERVICES_METADATA})`,
        },
      },
      { remove: { tag: "drop_authentication", field: AUTHENTICATED_FIELD, ignore_missing: true } },
    ],
  };
}
