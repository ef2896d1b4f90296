#!/usr/bin/env bash
# `npm run deploy -- [stack] [--skip-preflight]`: check the stack's Docker host (`npm run preflight`), then
# select (or create) the stack in the local state backend and run `pulumi up`. A preflight problem stops
# the deploy before anything is made; --skip-preflight deploys without asking the host first.
# It prints the Docker host it deploys to, and refuses a set DOCKER_CONTEXT (see below).
# The dev stack needs nothing typed: it uses an empty passphrase unless PULUMI_CONFIG_PASSPHRASE(_FILE) is set.
set -euo pipefail
cd "$(dirname "$0")/.."
stack="dev"
preflight=1
stack_given=""
for arg in "$@"; do
  case "$arg" in
    --skip-preflight) preflight=0 ;;
    -h | --help) echo "usage: npm run deploy -- [stack] [--skip-preflight]"; exit 0 ;;
    -*) echo "deploy: unknown option $arg; usage: npm run deploy -- [stack] [--skip-preflight]" >&2; exit 2 ;;
    *)
      [ -z "$stack_given" ] || { echo "deploy: more than one stack given ($stack_given, $arg)" >&2; exit 2; }
      stack="$arg"; stack_given="$arg" ;;
  esac
done

command -v pulumi >/dev/null || { echo "deploy: the Pulumi CLI is not installed (https://www.pulumi.com/docs/iac/download-install/)" >&2; exit 1; }
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

pulumi stack select --create --non-interactive "$stack"
pulumi up --yes --non-interactive --stack "$stack"
pulumi stack output --stack "$stack"
