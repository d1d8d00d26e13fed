#!/usr/bin/env bash
# The two commands of this project. Needs only Python 3.11+ with pip (and bash).
#   bash tasks.sh demo   set up, build the release, grade the bundled example submissions, print the grades
#   bash tasks.sh test   set up and run the test suite
# Offline machines: export NNASSIGN_DATA_MIRROR=file:///path/to/folder/holding/<dataset>/<file>.gz first.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}

setup() {
    if [ ! -x .venv/bin/python ]; then
        "$PY" -m venv .venv
    fi
    # Reinstall only when the dependency list changed: a stamp keeps the hash of pyproject.toml.
    local want; want=$(sha256sum pyproject.toml | cut -d' ' -f1)
    if [ "$(cat .venv/.nnassign-installed 2>/dev/null)" != "$want" ]; then
        .venv/bin/python -m pip install --quiet --upgrade pip
        .venv/bin/python -m pip install --quiet -e ".[test]"
        echo "$want" > .venv/.nnassign-installed
    fi
}

case "${1:-}" in
    demo)
        setup
        .venv/bin/nnassign data fetch --dataset "$(.venv/bin/python -c 'from nnassign.config import load_config; print(load_config().dataset)')"
        .venv/bin/nnassign release
        .venv/bin/nnassign grade examples/submissions --out out/demo
        cat <<'EOF'

Next: score the written answers [Q1]..[Q17] of this batch in a browser. This serves the page on
127.0.0.1:8800 and prints the URL to open, with its login token (on a remote machine, first
`ssh -L 8800:127.0.0.1:8800 that-machine`):
    .venv/bin/nnassign review out/demo
Then the final grades (add --allow-missing to count unscored answers 0) and the similarity report:
    .venv/bin/nnassign finalize out/demo      # out/demo/final_grades.csv, final_canvas_grades.csv, final/
    .venv/bin/nnassign similarity out/demo    # out/demo/similarity/report.html and pairs.csv
EOF
        ;;
    test)
        setup
        .venv/bin/python -m pytest "${@:2}"
        ;;
    *)
        echo "usage: bash tasks.sh demo | test [pytest args]" >&2
        exit 2
        ;;
esac
