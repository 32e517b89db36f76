#!/usr/bin/env bash
# make test: static checks, then every node-tap test; ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
passed=0
failed=0
check() {
  local name=$1
  shift
  if "$@" >"/tmp/tessera-check-$name.log" 2>&1; then
    echo "ok - $name"
    passed=$((passed + 1))
  else
    echo "not ok - $name"
    tail -40 "/tmp/tessera-check-$name.log"
    failed=$((failed + 1))
  fi
}
echo "node $(node --version)"
check typecheck tsc --noEmit -p .
check lint eslint .
check format prettier --check .

log=$(mktemp)
tap --reporter=tap "$@" >"$log" 2>&1
cat "$log" | grep -E '^(not ok|ok) ' || true
# Count first-level results inside each test file (its subtests, or its assertions when it
# has no subtests); a file that crashed before reporting counts as one failure.
tp=$(grep -cE '^    ok ' "$log" || true)
tf=$(grep -cE '^    not ok ' "$log" || true)
crashed=$(grep -cE '^not ok ' "$log" || true)
if [ "$tf" -eq 0 ] && [ "$crashed" -gt 0 ]; then tf=$crashed; fi
if [ "$tf" -gt 0 ]; then
  echo "---- failing test output ----"
  grep -nE 'not ok|error|Error' "$log" | head -80
fi
passed=$((passed + tp))
failed=$((failed + tf))
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
