#!/usr/bin/env bash
# Runs every test of AdamFamily. Installs what a fresh machine lacks first (scripts/setup.sh).
# As root it brings up a one-node Slurm cluster (scripts/slurm-local.sh) for the Slurm executor's integration test and
# stops it at the end; an already running one is used and left running. Under CI=true a missing Slurm is a failure.
# Then checks the NuGet package, the sample that consumes it and the `afm` tool (scripts/package-check.sh;
# AFM_SKIP_PACKAGE_CHECK=1 skips it for a quick local run). With CI=true (as CI sets it) every build
# treats warnings as errors (Directory.Build.props).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
log=$(mktemp)
started_slurm=0
cleanup() {
  rm -f "$log"
  if [ "$started_slurm" = 1 ]; then bash scripts/slurm-local.sh stop || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

slurm_conf_line() { grep -E '^SLURM_CONF=' | tail -1; }
if line=$(bash scripts/slurm-local.sh status 2>/dev/null | slurm_conf_line) && [ -n "$line" ]; then
  export "${line?}"
elif [ "$(id -u)" = 0 ] && command -v slurmctld >/dev/null; then
  started_slurm=1
  line=$(bash scripts/slurm-local.sh start | slurm_conf_line)
  export "${line?}"
elif [ "${CI:-}" = "true" ]; then
  echo "test.sh: CI=true needs the Slurm integration test, but no local cluster can be started (needs root and slurm-wlm; scripts/setup.sh installs it as root)." >&2
  exit 1
else
  echo "test.sh: no Slurm cluster (needs root and slurm-wlm): the Slurm integration tests will be skipped." >&2
fi

status=0
dotnet test AdamFamily.sln -c Release 2>&1 | tee "$log" || status=$?
# One plain summary line over all test projects ("N passed, N failed"); the package check counts as one.
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -oE 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
if [ "${AFM_SKIP_PACKAGE_CHECK:-0}" != "1" ]; then
  if bash scripts/package-check.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
fi
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$status" -ne 0 ]; then exit "$status"; fi
if [ "$passed" -eq 0 ]; then echo "no test ran" >&2; exit 1; fi
