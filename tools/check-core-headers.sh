#!/usr/bin/env bash
# The runtime's freestanding core (runtime/core/) must not reach the
# hosted parts of the standard library, directly or through another header:
# no threads, files, streams or node-based containers (issue 18). Lists
# every header each core source pulls in (the compiler's -M) and fails on
# any of them. Usage: check-core-headers.sh CXX RUNTIME_DIR
set -euo pipefail
cxx=$1
runtime=$2
forbidden='/(thread|fstream|iostream|istream|ostream|sstream|map|unordered_map|set|mutex|condition_variable|future|string|vector|memory|functional|stdexcept|exception)$'
status=0
for source in "$runtime"/core/src/*.cpp; do
  deps=$("$cxx" -std=c++17 -M -I"$runtime/core/include" -I"$runtime/core/src" "$source" |
         tr ' \\' '\n\n' | grep -v '^$' || true)
  bad=$(grep -E "$forbidden" <<<"$deps" || true)
  if [[ -n $bad ]]; then
    echo "FAIL: $(basename "$source") includes hosted headers:"; sed 's/^/  /' <<<"$bad"
    status=1
  fi
done
[[ $status -eq 0 ]] && echo "PASS: the core's sources include no hosted headers ($(ls "$runtime"/core/src/*.cpp | wc -l) files)"
exit $status
