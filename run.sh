#!/usr/bin/env bash
# The main job: a quick fair comparison of Adam, AdamW, AdamD and SGD on Fashion-MNIST
# (the fmnist-mlp protocol, shrunk to about three minutes on 2 cores), ending in a verdict table.
# With arguments, they are passed to `afm` instead: ./run.sh list, ./run.sh bench, ./run.sh compare --help ...
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet build src/AdamFamily.Cli -c Release -v quiet -nologo >/dev/null
afm() { dotnet src/AdamFamily.Cli/bin/Release/net10.0/afm.dll "$@"; }
if [ "$#" -gt 0 ]; then
  afm "$@"
else
  afm compare --protocol fmnist-mlp --scale quick --out runs/fmnist-mlp-quick
fi
