#!/usr/bin/env bash
# Run make targets as named steps, keep going past failures so one run reports
# every broken step, log each to artifacts/logs/<step>.log, and finish with one
# summary line. Exit status is non-zero when any step failed.
#   run-steps.sh step [step ...]   the arguments run in order
#   a+b                            a and b run in parallel
#   a>b                            b starts when a has ended (pass or fail), so
#                                  a+b>c starts c as soon as b ends, not when a does
set -uo pipefail
cd "$(dirname "$0")/.."
rm -rf artifacts/logs/runs && mkdir -p artifacts/logs
passed=0 failed=0
declare -a failed_steps=() timings=()

run_one() {
  local step=$1 log="artifacts/logs/$1.log" start rc
  start=$(date +%s)
  echo "    start $step"
  # The step's processor time (user + system of every process it waited
  # for; containers' own processes are the Docker engine's, not counted):
  # on two cores, what the steps cost together sets the run's length.
  cpu=$( (make --no-print-directory "$step" >"$log" 2>&1; echo "rc $?"; times) | cpu_seconds)
  rc=${cpu%% *} cpu=${cpu#* }
  echo "$rc $(( $(date +%s) - start )) $cpu" >"artifacts/logs/$step.result"
  echo "    end   $step (exit $rc, $(( $(date +%s) - start ))s, cpu ${cpu}s)"
  return "$rc"
}

# "rc N" then bash's `times` (the shell's, then its children's user and
# system time as XmY.Zs) -> "N <children's user+system seconds>".
cpu_seconds() {
  awk '/^rc / {rc = $2} /s .*s$/ {line = $0}
       END {split(line, t, " "); total = 0
            for (i in t) {split(t[i], p, "m"); total += p[1] * 60 + p[2]}
            printf "%s %d\n", rc, total}'
}

run_chain() {
  local step
  IFS='>' read -r -a chain <<<"$1"
  for step in "${chain[@]}"; do run_one "$step"; done
}

for group in "$@"; do
  IFS=+ read -r -a chains <<<"$group"
  echo "=== ${chains[*]}"
  for chain in "${chains[@]}"; do run_chain "$chain" & done
  wait
  for chain in "${chains[@]}"; do
    IFS='>' read -r -a steps <<<"$chain"
    for step in "${steps[@]}"; do
      read -r rc seconds cpu <"artifacts/logs/$step.result"
      timings+=("$step ${seconds}s/cpu ${cpu}s")
      if [ "$rc" = 0 ]; then
        passed=$((passed + 1)); echo "--- PASS $step (${seconds}s)"
      else
        failed=$((failed + 1)); failed_steps+=("$step")
        echo "--- FAIL $step (${seconds}s, exit $rc); last lines of artifacts/logs/$step.log:"
        tail -n 40 "artifacts/logs/$step.log" | sed 's/^/    /'
      fi
    done
  done
done

echo
echo "step timings: ${timings[*]}"
[ "$failed" -gt 0 ] && echo "failed steps: ${failed_steps[*]}"
echo "steps: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
