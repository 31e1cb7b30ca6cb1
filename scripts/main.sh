#!/usr/bin/env bash
# The main job of the README: installs what is missing, builds maqd, and runs
# it. For now: the version and the operators' self-check.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
build/bin/maqd --version
build/bin/maqd selfcheck
