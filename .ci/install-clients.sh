#!/usr/bin/env bash
# Installs what the client tests (crates/evogate/tests/clients_*.rs) need: the pinned npm
# packages in tests/clients/node (npm ci) and a virtualenv with the pinned PyPI packages at
# tests/clients/python/.venv. Idempotent: an install whose lock/requirements file has not changed
# since the last successful run is skipped. Fails loudly when node, npm or python3 is missing.
set -euo pipefail

export SERVICESTACK_TELEMETRY_OPTOUT=1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node_dir="$root/tests/clients/node"
py_dir="$root/tests/clients/python"

die() { echo "install-clients: ERROR: $*" >&2; exit 1; }
for tool in node npm python3; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not on the PATH; the client tests need Node.js >= 20 with npm, and Python >= 3.9 with venv"
done
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
    || die "Node.js >= 20 is required (found $(node --version))"
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' \
    || die "Python >= 3.9 is required (found $(python3 --version 2>&1))"

# one install at a time (test binaries may call this script concurrently)
if command -v flock >/dev/null 2>&1; then
    exec 9>"${TMPDIR:-/tmp}/evogate-install-clients.lock"
    flock 9
fi

stamp_ok() { # <stamp file> <input file>: true when the stamp holds the input's checksum
    [[ -f "$1" ]] && [[ "$(cat "$1")" == "$(sha256sum "$2" | cut -d' ' -f1)" ]]
}

# --- npm: @servicestack/client, @servicestack/cli, typescript --------------------------------
node_stamp="$node_dir/node_modules/.evogate-installed"
if stamp_ok "$node_stamp" "$node_dir/package-lock.json" && [[ -x "$node_dir/node_modules/.bin/tsc" ]]; then
    echo "install-clients: node packages up to date"
else
    echo "install-clients: npm ci in tests/clients/node"
    (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in $node_dir"
    sha256sum "$node_dir/package-lock.json" | cut -d' ' -f1 >"$node_stamp"
fi

# --- PyPI: servicestack and its dependencies ---------------------------------------------
venv="$py_dir/.venv"
py_stamp="$venv/.evogate-installed"
if stamp_ok "$py_stamp" "$py_dir/requirements.txt" && [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c 'import servicestack' 2>/dev/null; then
    echo "install-clients: python packages up to date"
else
    echo "install-clients: creating $venv"
    rm -rf "$venv"
    python3 -m venv "$venv" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$py_dir/requirements.txt" \
        || die "pip install -r $py_dir/requirements.txt failed"
    sha256sum "$py_dir/requirements.txt" | cut -d' ' -f1 >"$py_stamp"
fi

"$venv/bin/python" -c 'import servicestack, dataclasses_json, requests' || die "the venv at $venv cannot import servicestack"
echo "install-clients: ok"
