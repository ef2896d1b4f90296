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
 * 5. removes `atra_authenticated` again: nothing of the authentication is indexed.
 * Documents the central stack's own Filebeat sends (as the writer user, a native user: LogsStack.shipper)
 * keep their `host.name`, which that Filebeat sets from the central catalog (filebeat-config.ts).
 *
 * `service.name` is not checked: the central stack does not know an agent's catalog (agents[] lists hosts
 * only). An agent host can claim any service name, but only under its own `host.name`; the log alerts group by
 * service and host (ServiceLogErrorsHigh, ServiceStoppedLogging), so it cannot fake or hide another host's. A dotted
 * `service.name` is the same claim as a nested one (step 0), not a second service for the same line.
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

const API_KEY = `ctx.${AUTHENTICATED_FIELD}?.api_key`;

export function renderHostIdentityPipeline(): IngestPipelineBody {
  const hostFromKey = `${AUTHENTICATED_FIELD}.api_key.metadata.${AGENT_HOST_METADATA}`;
  return {
    description:
      "host.name from the API key the document was sent with (its metadata atra_host); documents of other API keys fail (managed by atra-observability)",
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
      {
        fail: {
          tag: "api_key_without_host",
          if: `${API_KEY} instanceof Map && !(${API_KEY}?.metadata?.${AGENT_HOST_METADATA} instanceof String)`,
          message: `API key [{{{${AUTHENTICATED_FIELD}.api_key.name}}}] names no host (metadata ${AGENT_HOST_METADATA}): only the agents' keys may write here`,
        },
      },
      { remove: { tag: "drop_authentication", field: AUTHENTICATED_FIELD, ignore_missing: true } },
    ],
  };
}
