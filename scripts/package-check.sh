#!/usr/bin/env bash
# Checks what a user gets from NuGet, from sources in this checkout:
#   1. packs the library (AdamFamily + .snupkg) and the `afm` tool (AdamFamily.Cli, this machine's runtime
#      only) into a local feed, under a version unique to this run;
#   2. checks the library package's contents (README for users, XML docs, license, no stray dependency,
#      SourceLink in the symbols) and that a second build of the same commit gives the same bytes;
#   3. builds and runs samples/AdamFamily.Sample against that feed, with a package folder of its own
#      (so neither a cached AdamFamily nor a ProjectReference can stand in for the package just packed);
#   4. installs the tool from the feed into a temporary tool path and runs `afm list` and `afm parity`.
# ./test.sh runs it after the tests. Exit codes: 0 ok, 1 a check failed, 2 bad usage or environment.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

t0=$(date +%s)
say() { printf '[package-check %3ds] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }
fail() { printf '[package-check] FAILED: %s\n' "$*" >&2; exit 1; }

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) rid=linux-x64 ;;
  Darwin-arm64) rid=osx-arm64 ;;
  *) printf '[package-check] no LibTorch build for %s-%s in TorchSharp-cpu 0.107; nothing to check.\n' "$(uname -s)" "$(uname -m)" >&2; exit 2 ;;
esac

# A version no earlier run, cache or registry can hold.
version="0.1.0-check.$(date -u +%Y%m%d%H%M%S).$$"
work="$root/artifacts/package-check"   # samples/NuGet.config points at $work/feed
feed="$work/feed"
tmp=$(mktemp -d)
cleanup() { rm -rf "$tmp" "$work"; }
trap cleanup EXIT
rm -rf "$work"
mkdir -p "$feed"

say "packing AdamFamily $version"
dotnet pack src/AdamFamily -c Release -nologo -v quiet -o "$feed" \
  -p:Version="$version" -p:ContinuousIntegrationBuild=true >"$tmp/pack-lib.log" 2>&1 \
  || { cat "$tmp/pack-lib.log" >&2; fail "dotnet pack src/AdamFamily"; }
nupkg="$feed/AdamFamily.$version.nupkg"
[ -f "$nupkg" ] || fail "no $nupkg"
[ -f "$feed/AdamFamily.$version.snupkg" ] || fail "no symbol package AdamFamily.$version.snupkg"

# Contents: the user README (not the lab's), the XML docs next to the dll, the license, and the nuspec's
# dependencies: TorchSharp only.
listing=$(unzip -Z1 "$nupkg")
for f in README.md LICENSE lib/net8.0/AdamFamily.dll lib/net8.0/AdamFamily.xml; do
  grep -qx "$f" <<<"$listing" || fail "$f missing from the package"
done
# (Members are extracted to files first: `unzip -p | grep -q` can fail under pipefail when grep stops reading early.)
unzip -p "$nupkg" README.md >"$tmp/README.md"
grep -q "dotnet add package AdamFamily" "$tmp/README.md" || fail "the package README is not the user README (PACKAGE.md)"
if grep -q "\./run.sh" "$tmp/README.md"; then fail "the package README holds lab instructions"; fi
nuspec=$(unzip -p "$nupkg" AdamFamily.nuspec)
deps=$(grep -o '<dependency id="[^"]*"' <<<"$nuspec" | sed 's/.*id="//; s/"//' | sort -u | tr '\n' ' ')
[ "$deps" = "TorchSharp " ] || fail "package dependencies are '$deps', expected TorchSharp only"
grep -q '<repository type="git" url="https://' <<<"$nuspec" || fail "no repository URL in the nuspec"
grep -qx "lib/net8.0/AdamFamily.pdb" <<<"$(unzip -Z1 "$feed/AdamFamily.$version.snupkg")" || fail "no PDB in the symbol package"
# SourceLink: the PDB maps the sources to the repository at the packed commit.
unzip -p "$feed/AdamFamily.$version.snupkg" lib/net8.0/AdamFamily.pdb >"$tmp/AdamFamily.pdb"
grep -aq "https://raw.githubusercontent.com/" "$tmp/AdamFamily.pdb" || fail "the PDB has no SourceLink map"

say "rebuilding the library from scratch: the same bytes (deterministic build)"
unzip -p "$nupkg" lib/net8.0/AdamFamily.dll >"$tmp/packed.dll"
dotnet build src/AdamFamily -c Release -nologo -v quiet --no-incremental -o "$tmp/rebuild" \
  -p:Version="$version" -p:ContinuousIntegrationBuild=true >"$tmp/rebuild.log" 2>&1 \
  || { cat "$tmp/rebuild.log" >&2; fail "rebuilding src/AdamFamily"; }
cmp -s "$tmp/packed.dll" "$tmp/rebuild/AdamFamily.dll" || fail "a second build of the same commit gave a different AdamFamily.dll"

say "packing the afm tool (AdamFamily.Cli, $rid)"
dotnet pack src/AdamFamily.Cli -c Release -nologo -v quiet -o "$feed" \
  -p:Version="$version" -p:ContinuousIntegrationBuild=true -p:ToolPackageRuntimeIdentifiers="$rid" >"$tmp/pack-tool.log" 2>&1 \
  || { cat "$tmp/pack-tool.log" >&2; fail "dotnet pack src/AdamFamily.Cli"; }
[ -f "$feed/AdamFamily.Cli.$version.nupkg" ] && [ -f "$feed/AdamFamily.Cli.$rid.$version.nupkg" ] \
  || fail "tool packages missing: $(ls "$feed")"

say "building and running samples/AdamFamily.Sample against the feed"
# Its own package folder: AdamFamily is restored from the feed; other packages are read from the usual
# global folder when there (a fallback folder is read in place, not copied), else from NuGet.
global=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: *//')
sample_out="$tmp/sample"
dotnet build samples/AdamFamily.Sample -c Release -nologo -v quiet -o "$sample_out" \
  -p:AdamFamilyVersion="$version" -p:RestorePackagesPath="$tmp/packages" -p:RestoreFallbackFolders="$global" \
  >"$tmp/sample-build.log" 2>&1 || { cat "$tmp/sample-build.log" >&2; fail "building the sample"; }
[ -d "$tmp/packages/adamfamily/$version" ] || fail "the sample did not restore AdamFamily $version from the feed"
if grep -q "AdamFamily.csproj" "$tmp/sample-build.log"; then fail "the sample built the library from source"; fi
sample_status=0
dotnet "$sample_out/AdamFamily.Sample.dll" | tee "$tmp/sample.log" || sample_status=$?
[ "$sample_status" -eq 0 ] || fail "the sample exited with $sample_status"
grep -q "AdamFamily $version" "$tmp/sample.log" || fail "the sample did not run against AdamFamily $version"

say "installing the afm tool into a temporary tool path"
cat >"$tmp/tool-nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration><packageSources><clear /><add key="feed" value="$feed" /></packageSources></configuration>
EOF
dotnet tool install AdamFamily.Cli --version "$version" --tool-path "$tmp/tools" --configfile "$tmp/tool-nuget.config" \
  >"$tmp/tool-install.log" 2>&1 || { cat "$tmp/tool-install.log" >&2; fail "dotnet tool install"; }
"$tmp/tools/afm" list >"$tmp/afm-list.log" 2>&1 || { cat "$tmp/afm-list.log" >&2; fail "afm list"; }
grep -q "adamd" "$tmp/afm-list.log" || fail "afm list does not list adamd"
# A command that runs LibTorch from the tool's own native libraries.
"$tmp/tools/afm" parity tests/golden/afmdw_reference.json >"$tmp/afm-parity.log" 2>&1 \
  || { cat "$tmp/afm-parity.log" >&2; fail "afm parity from the installed tool"; }

say "ok: library, symbols, sample and tool $version"
