#!/usr/bin/env bash
# Installs what drctl needs to build and to run its test bed on Debian 12 (as root, or with sudo):
# the C libraries it links, PostgreSQL 15, tmux, Chromium (headless, for the HTML report test) and systemd (systemd-analyze checks the drill timer) for the tests, and pinned Python packages
# (moto's server and botocore) for the local AWS test bed and the benchmark baseline, and google-auth,
# google-api-python-client (Google's discovery documents) and gcp-storage-emulator for the GCP half,
# and the official Kubernetes client (its OpenAPI models validate the CronJob: Tests/TestBed/schemas).
set -euo pipefail

packages=(libcurl4-openssl-dev libpq-dev libssl-dev libsqlite3-dev postgresql-15 postgresql-client-15 tmux python3-pip chromium systemd)
python_packages=("moto[server]==5.2.1" "boto3==1.43.11" "botocore==1.43.11"
  "google-auth==2.62.2" "google-api-python-client==2.202.0" "gcp-storage-emulator==2026.7.19")
# kubernetes 37.0.2 requires python-dateutil >= 3 and pydantic >= 2.14, botocore 1.43.11 dateutil < 3
# and moto's aws-sam-translator pydantic ~= 2.13: one environment cannot hold both, so the client
# goes into a directory of its own that only Tests/TestBed/schemas/kubernetes_strict.py puts first
# on its path (DRCTL_KUBERNETES_SITE overrides where).
kubernetes_package="kubernetes==37.0.2"
kubernetes_site="${DRCTL_KUBERNETES_SITE:-$HOME/.cache/drctl/python-kubernetes-37.0.2}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# python3-pip may be absent when Python comes from elsewhere (pyenv): only its pip matters.
if python3 -m pip --version >/dev/null 2>&1; then
  missing=("${missing[@]/python3-pip}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
    as_root apt-get update >/dev/null
    as_root apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
  }
fi

# Only when a pinned version is missing: pip is slow even when it has nothing to do.
if ! python3 - <<'PY' 2>/dev/null
import importlib.metadata as m
want = {"moto": "5.2.1", "boto3": "1.43.11", "botocore": "1.43.11", "flask": None, "flask-cors": None,
        "google-auth": "2.62.2", "google-api-python-client": "2.202.0", "gcp-storage-emulator": "2026.7.19",
        "cryptography": None}
for name, version in want.items():
    have = m.version(name)
    assert version is None or have == version, name
PY
then
  echo "setup: pip installing ${python_packages[*]}" >&2
  python3 -m pip install --quiet --disable-pip-version-check "${python_packages[@]}"
fi
if ! PYTHONPATH="$kubernetes_site" python3 -c 'import importlib.metadata as m; assert m.version("kubernetes") == "37.0.2"' 2>/dev/null; then
  echo "setup: pip installing $kubernetes_package into $kubernetes_site" >&2
  rm -rf "$kubernetes_site.partial" && mkdir -p "$(dirname "$kubernetes_site")"
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-conflicts --target "$kubernetes_site.partial" "$kubernetes_package"
  rm -rf "$kubernetes_site" && mv "$kubernetes_site.partial" "$kubernetes_site"
fi

command -v swift >/dev/null || { echo "setup: swift is not on PATH (expected Swift 6 at /opt/swift)" >&2; exit 1; }
