# Sourced by each CLI test after its `set -uo pipefail`: the maqd binary
# (the test's first argument), a temporary folder removed at exit, and
# fail, which prints the reason and the folder's log and exits 1.
maqd=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; echo "--- log:"; cat "$dir/log" 2>/dev/null; exit 1; }
