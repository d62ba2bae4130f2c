#!/usr/bin/env bash
# Regenerates the documentation generated from the code: docs/actions.md from the actions' own
# declarations (`drctl actions --output markdown`). drctlTests fail when the committed page differs.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product drctl >/dev/null
"$(swift build --show-bin-path)/drctl" actions --output markdown > docs/actions.md
echo "wrote docs/actions.md"
