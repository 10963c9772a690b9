#!/usr/bin/env bash
# Runs every test of AdamFamily. Installs what a fresh machine lacks first (scripts/setup.sh).
# Then checks the NuGet package, the sample that consumes it and the `afm` tool (scripts/package-check.sh;
# AFM_SKIP_PACKAGE_CHECK=1 skips it for a quick local run). With CI=true (as CI sets it) every build
# treats warnings as errors (Directory.Build.props).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test AdamFamily.sln -c Release 2>&1 | tee "$log" || status=$?
# One plain summary line over all test projects ("N passed, N failed"); the package check counts as one.
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
if [ "${AFM_SKIP_PACKAGE_CHECK:-0}" != "1" ]; then
  if bash scripts/package-check.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
fi
echo "tests: ${passed} passed, ${failed} failed"
if [ "$status" -ne 0 ]; then exit "$status"; fi
if [ "$passed" -eq 0 ]; then echo "no test ran" >&2; exit 1; fi
