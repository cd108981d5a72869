#!/usr/bin/env bash
# `make upgrade`: re-resolve every dependency to its newest version in separate venvs, run the fast test
# suite there, and rewrite requirements/constraints*.txt only if it passes. .venv is not touched: run
# `make install` afterwards (the new constraints re-trigger it). Env: PYTHON, WIRE_PYTHON, TORCH_SPEC, EXTRAS.
set -euo pipefail
cd "$(dirname "$0")/.."
UP=.venv-upgrade
UPW=.venv-upgrade-mongo
LOG=requirements/upgrade.log
rm -rf "$UP" "$UPW"
"$PYTHON" -m venv "$UP"
"$UP/bin/pip" install -q --upgrade pip
# torch stays at TORCH_SPEC (the CPU wheel): an eager upgrade would otherwise pull the newest CUDA build
echo "$TORCH_SPEC" > "$UP/torch-constraint.txt"
"$UP/bin/pip" install -q -c "$UP/torch-constraint.txt" "$TORCH_SPEC"
"$UP/bin/pip" install -q -c "$UP/torch-constraint.txt" --upgrade --upgrade-strategy eager -e ".[$EXTRAS]"
"$WIRE_PYTHON" -m venv "$UPW"
"$UPW/bin/pip" install -q --upgrade pip "mongoeco[wire]"

freeze() {  # pinned versions without the project itself; torch's local label (+cpu) dropped
    "$1/bin/pip" freeze --all --exclude-editable | grep -v '^#' | grep -vi '^mlip[-_]glass' \
        | sed -E 's/^(torch==[^+]+)\+.*/\1/'
}
freeze "$UP" > "$UP/constraints.txt"
freeze "$UPW" > "$UPW/constraints-wire.txt"
echo "re-resolved; changes against the current constraints:"
diff <(grep -v '^#' requirements/constraints.txt) "$UP/constraints.txt" | grep '^[<>]' || true
diff <(grep -v '^#' requirements/constraints-wire.txt) "$UPW/constraints-wire.txt" | grep '^[<>]' || true

if ! MLIP_GLASS_WIRE_PYTHON="$PWD/$UPW/bin/python" nice -n 10 "$UP/bin/pytest" -q -x 2>&1 | tee "$LOG"; then
    echo "make upgrade: tests FAILED on the newest versions (log: $LOG); constraints unchanged" >&2
    exit 1
fi
{ sed -n '/^#/p' requirements/constraints.txt; cat "$UP/constraints.txt"; } > requirements/constraints.txt.new
{ sed -n '/^#/p' requirements/constraints-wire.txt; cat "$UPW/constraints-wire.txt"; } > requirements/constraints-wire.txt.new
mv requirements/constraints.txt.new requirements/constraints.txt
mv requirements/constraints-wire.txt.new requirements/constraints-wire.txt
echo "make upgrade: tests passed; requirements/constraints*.txt rewritten (review with git diff, then make install)"
