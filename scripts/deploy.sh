#!/usr/bin/env bash
# `npm run deploy -- [stack]`: select (or create) the stack in the local state backend and run `pulumi up`.
# The dev stack needs nothing typed: it uses an empty passphrase unless PULUMI_CONFIG_PASSPHRASE(_FILE) is set.
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${1:-dev}"

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

pulumi stack select --create --non-interactive "$stack"
pulumi up --yes --non-interactive --stack "$stack"
pulumi stack output --stack "$stack"
