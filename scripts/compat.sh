#!/usr/bin/env bash
# Run the test suite (or the given test paths) on other Node majors: scripts/compat.sh 22 24 [-- paths…]
# Each Node comes from the npm registry (npx -p node@N); the CLI under test runs on that same Node.
set -euo pipefail
cd "$(dirname "$0")/.."
majors=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do majors+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#majors[@]} -gt 0 ] || majors=(22 24)
[ -f dist/wsx.cjs ] || npm run build --silent
for n in "${majors[@]}"; do
  echo "== Node $n: $(npx -y -p "node@$n" -- node --version)"
  npx -y -p "node@$n" -- node node_modules/vitest/vitest.mjs run "$@"
done
