#!/usr/bin/env bash
# Regenerates the documentation generated from the code: docs/actions.md from the actions' own
# declarations (`drctl actions --output markdown`), and deploy/terraform/drill_policy.tf. drctlTests fail when
# a committed file differs.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product drctl >/dev/null
"$(swift build --show-bin-path)/drctl" actions --output markdown > docs/actions.md
echo "wrote docs/actions.md"

# deploy/terraform/drill_policy.tf: the drill task's least privilege for the reference plan
# (`drctl iam policy`); deployers regenerate it for their own plan (deploy/README.md).
"$(swift build --show-bin-path)/drctl" iam policy --plan Runbooks/drplan.yaml --for drill --format terraform --name drctl_drill \
  > deploy/terraform/drill_policy.tf 2>/dev/null
echo "wrote deploy/terraform/drill_policy.tf"
