#!/usr/bin/env bash
# The main job: the quick fair study of Adam, AdamW, AdamD and SGD on Fashion-MNIST — the fmnist-mlp protocol at
# quick scale, 4 tuning trials per arm scored on validation data, then the selected points on 3 fresh seeds
# (28 runs on the local workers: about 2 minutes on 2 idle cores, 5 on busy ones) — ending in a verdict table.
# With arguments, they are passed to `afm` instead: ./run.sh list, ./run.sh bench, ./run.sh compare --help ...
# (`./run.sh tune` alone is the main job too.)
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet build src/AdamFamily.Cli -c Release -v quiet -nologo >/dev/null
afm() { dotnet src/AdamFamily.Cli/bin/Release/net10.0/afm.dll "$@"; }
if [ "$#" -eq 0 ] || { [ "$#" -eq 1 ] && [ "$1" = tune ]; }; then
  afm tune --protocol fmnist-mlp --scale quick --trials 4 --out runs/tune-fmnist-mlp-quick
else
  afm "$@"
fi
