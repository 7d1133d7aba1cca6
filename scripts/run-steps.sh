#!/usr/bin/env bash
# Run make targets as named steps, keep going past failures so one run reports
# every broken step, log each to artifacts/logs/<step>.log, and finish with one
# summary line. Exit status is non-zero when any step failed.
#   run-steps.sh step [step ...]       steps run in order
#   a step written a+b runs a and b in parallel
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p artifacts/logs
passed=0 failed=0
declare -a failed_steps=() timings=()

run_one() {
  local step=$1 log="artifacts/logs/$1.log" start rc
  start=$(date +%s)
  make --no-print-directory "$step" >"$log" 2>&1
  rc=$?
  echo "$rc $(( $(date +%s) - start ))" >"artifacts/logs/$step.result"
  return "$rc"
}

for group in "$@"; do
  IFS=+ read -r -a steps <<<"$group"
  echo "=== ${steps[*]}"
  for step in "${steps[@]}"; do run_one "$step" & done
  wait
  for step in "${steps[@]}"; do
    read -r rc seconds <"artifacts/logs/$step.result"
    timings+=("$step ${seconds}s")
    if [ "$rc" = 0 ]; then
      passed=$((passed + 1)); echo "--- PASS $step (${seconds}s)"
    else
      failed=$((failed + 1)); failed_steps+=("$step")
      echo "--- FAIL $step (${seconds}s, exit $rc); last lines of artifacts/logs/$step.log:"
      tail -n 40 "artifacts/logs/$step.log" | sed 's/^/    /'
    fi
  done
done

echo
echo "step timings: ${timings[*]}"
[ "$failed" -gt 0 ] && echo "failed steps: ${failed_steps[*]}"
echo "steps: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
