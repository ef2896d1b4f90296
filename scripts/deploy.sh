#!/usr/bin/env bash
# `npm run deploy -- [stack] [--skip-preflight] [--skip-verify] [--no-tunnels] [--verify-wait=<duration>] [--central-outputs <file>]`:
# check the stack's Docker host (`npm run preflight`), select (or create) the stack in the local state backend,
# run `pulumi up`, then `npm run verify` against the deployed stack. A preflight problem stops the deploy before
# anything is made; --skip-preflight deploys without asking the host first. A verify failure exits 1 after the
# deploy (what was made stays); --skip-verify skips it.
# On an ssh:// Docker host it opens the SSH forwards the Grafana, Elasticsearch and Kibana providers need (one
# per provider URL on this machine's loopback, to the published port on the host: scripts/lib/tunnels.ts),
# waits until each listens (bounded), and closes them by ssh's PID when it exits, also on Ctrl-C or a failure.
# --no-tunnels opens none (the provider URLs are then reached as they are, e.g. through your own tunnel).
# No `pulumi` on PATH: npm's `pulumi` package runs the CLI of the @pulumi/pulumi SDK's version, downloaded on
# first use (scripts/lib/verify/pulumi-cli.ts says which CLI and why).
# It prints the Docker host it deploys to, and refuses a set DOCKER_CONTEXT (see below).
# The dev stack needs nothing typed: it uses an empty passphrase unless PULUMI_CONFIG_PASSPHRASE(_FILE) is set;
# on a remote Docker host (ssh://, tcp://) that empty passphrase is refused by the preflight's --print-host below
# (components/docker/host.ts emptyPassphraseProblem), before anything is made.
set -euo pipefail
cd "$(dirname "$0")/.."
stack="dev"
preflight=1
verify=1
verify_wait=""
stack_given=""
tunnels=1
# An agent stack's verify needs the central stack's outputs (--central-outputs <file>, or ATRA_CENTRAL_OUTPUTS):
# without them it fails "verify incomplete" (scripts/lib/verify/run.ts agentChecks says why).
central_outputs="${ATRA_CENTRAL_OUTPUTS:-}"
usage="usage: npm run deploy -- [stack] [--skip-preflight] [--skip-verify] [--no-tunnels] [--verify-wait=<duration>] [--central-outputs <file>]"
while [ "$#" -gt 0 ]; do
  arg="$1"; shift
  case "$arg" in
    --skip-preflight) preflight=0 ;;
    --skip-verify) verify=0 ;;
    --no-tunnels) tunnels=0 ;;
    --verify-wait=*) verify_wait="${arg#*=}" ;;
    --central-outputs=*) central_outputs="${arg#*=}" ;;
    --central-outputs)
      [ "$#" -gt 0 ] || { echo "deploy: --central-outputs needs a file; $usage" >&2; exit 2; }
      central_outputs="$1"; shift ;;
    -h | --help) echo "$usage"; exit 0 ;;
    -*) echo "deploy: unknown option $arg; $usage" >&2; exit 2 ;;
    *)
      [ -z "$stack_given" ] || { echo "deploy: more than one stack given ($stack_given, $arg)" >&2; exit 2; }
      stack="$arg"; stack_given="$arg" ;;
  esac
done
if [ -n "$central_outputs" ] && [ ! -f "$central_outputs" ]; then
  echo "deploy: --central-outputs $central_outputs: no such file (write it with: pulumi stack output --json --show-secrets --stack <central> > <file>); nothing was deployed" >&2
  exit 2
fi

# The Pulumi CLI: on PATH, else the SDK's version from the shared cache, else npm's `pulumi` package (npx)
# downloading it; one word a line, `env:K=V` lines first (scripts/lib/verify/pulumi-cli.ts).
pulumi=()
while IFS= read -r word; do
  case "$word" in
    env:*) export "${word#env:}" ;;
    *) pulumi+=("$word") ;;
  esac
done < <(node scripts/run-ts.js scripts/verify.ts --print-pulumi) || true
[ "${#pulumi[@]}" -gt 0 ] || { echo "deploy: cannot find or fetch the Pulumi CLI (https://www.pulumi.com/docs/iac/download-install/)" >&2; exit 1; }
if [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  if [ "$stack" = "dev" ]; then
    # Dev secrets (the generated Grafana password) are still encrypted in state, with an empty passphrase.
    export PULUMI_CONFIG_PASSPHRASE=""
  else
    echo "deploy: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) for stack '$stack'" >&2
    exit 1
  fi
fi
[ -f "Pulumi.$stack.yaml" ] || { echo "deploy: no Pulumi.$stack.yaml; copy Pulumi.dev.yaml and adapt it" >&2; exit 1; }

# The Docker host, by the program's own rule (components/docker/host.ts): dockerHost, else DOCKER_HOST,
# else the local socket. A set DOCKER_CONTEXT is refused here, before anything runs: the provider would
# follow it and deploy to another daemon than dockerHost (and than the preflight checks).
host="$(node scripts/run-ts.js scripts/preflight.ts --stack "$stack" --print-host)" \
  || { echo "deploy: nothing was deployed" >&2; exit 1; }
echo "deploy: stack $stack goes to Docker host $host"

if [ "$preflight" = 1 ]; then
  node scripts/run-ts.js scripts/preflight.ts --stack "$stack" \
    || { echo "deploy: the preflight found problems on the Docker host (above); nothing was deployed. Fix them, or deploy anyway with --skip-preflight" >&2; exit 1; }
fi

"${pulumi[@]}" stack select --create --non-interactive "$stack"

# The providers' SSH forwards (ssh:// Docker hosts): opened here, closed by ssh's PID when this script exits for
# any reason. ssh runs in its own session, so a Ctrl-C reaches `pulumi up` alone; bash runs the INT trap once
# `up` has stopped (it cancels cleanly, still through the forwards), and the EXIT trap then closes them.
tunnel_pid=""
tunnel_log=""
close_tunnels() {
  if [ -n "$tunnel_pid" ]; then
    kill -TERM "$tunnel_pid" 2>/dev/null || true
    # Gone, or a zombie waiting for init to reap it (ssh's parent, the tunnels script, has exited).
    for _ in $(seq 1 50); do
      case "$(ps -o stat= -p "$tunnel_pid" 2>/dev/null)" in "" | Z*) break ;; esac
      sleep 0.1
    done
    case "$(ps -o stat= -p "$tunnel_pid" 2>/dev/null)" in "" | Z*) ;; *) kill -KILL "$tunnel_pid" 2>/dev/null || true ;; esac
    echo "deploy: closed the SSH forwards (ssh PID $tunnel_pid)" >&2
    tunnel_pid=""
  fi
  [ -z "$tunnel_log" ] || rm -f "$tunnel_log"
  [ -z "${ca_file:-}" ] || rm -f "$ca_file"
}
trap close_tunnels EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [ "$tunnels" = 1 ]; then
  tunnel_log="$(mktemp "${TMPDIR:-/tmp}/atra-deploy-ssh.XXXXXX")"
  tunnel_pid="$(node scripts/run-ts.js scripts/tunnels.ts --stack "$stack" --log "$tunnel_log")" \
    || { status=$?; echo "deploy: the SSH forwards for the providers did not open (above); nothing was deployed. Or deploy with --no-tunnels and reach the provider URLs yourself" >&2; exit "$status"; }
fi

"${pulumi[@]}" up --yes --non-interactive --stack "$stack"
"${pulumi[@]}" stack output --stack "$stack"

if [ "$verify" = 1 ]; then
  echo "deploy: verifying stack $stack (npm run verify -- --stack $stack)"
  # The CAs verify must trust beside Node's roots (NODE_EXTRA_CA_CERTS, read once at Node's start:
  # nodejs/node src/node.cc, crypto::UseExtraCaCerts; global fetch uses it): a CA file the user already
  # named, this stack's own CA (the caCertificate output of tls.mode generated, made by this up), and for
  # an agent the central stack's, from --central-outputs (its prometheusUrl and elasticsearchUrl are
  # https under that CA), and the issuer of each agentFederation certificate (the CA of the agent's own
  # Prometheus: the central stack's federation CA, not its stack CA). Not
  # secret; the file goes when deploy ends (close_tunnels, on EXIT).
  ca_file="$(mktemp "${TMPDIR:-/tmp}/atra-deploy-ca.XXXXXX")"
  if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then cat "$NODE_EXTRA_CA_CERTS" >>"$ca_file"; fi
  "${pulumi[@]}" stack output --stack "$stack" caCertificate >>"$ca_file" 2>/dev/null || true
  if [ -n "$central_outputs" ] && [ -f "$central_outputs" ]; then
    node -e 'const all = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const o = all.caCertificate;
      const pem = typeof o === "string" ? o : o && typeof o.value === "string" ? o.value : "";
      if (pem.includes("BEGIN CERTIFICATE")) process.stdout.write(pem.endsWith("\n") ? pem : pem + "\n");
      const federation = all.agentFederation && typeof all.agentFederation === "object" ? all.agentFederation : {};
      for (const entry of Object.values(federation)) {
        const blocks = String((entry && entry.certificate) || "").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) || [];
        if (blocks.length > 0) process.stdout.write(blocks[blocks.length - 1] + "\n");
      }' "$central_outputs" >>"$ca_file" || true
  fi
  grep -q "BEGIN CERTIFICATE" "$ca_file" && export NODE_EXTRA_CA_CERTS="$ca_file"
  node scripts/run-ts.js scripts/verify.ts --stack "$stack" ${verify_wait:+--wait "$verify_wait"} ${central_outputs:+--central-outputs "$central_outputs"} \
    || { echo "deploy: stack $stack is deployed, but verify found problems (above); fix them and run: NODE_EXTRA_CA_CERTS=<the caCertificate output in a file> npm run verify -- --stack $stack" >&2; exit 1; }
fi
