#!/usr/bin/env bash
# The main job: a quick fair comparison of Adam, AdamW, AdamD and SGD on Fashion-MNIST
# (the fmnist-mlp protocol, shrunk to about three minutes on 2 cores), ending in a verdict table.
# With arguments, they are passed to `afm` instead: ./run.sh list, ./run.sh bench, ./run.sh compare --help ...
# `./run.sh tune` alone runs the fair version: fmnist-mlp quick with 4 tuning trials per arm, then 3 fresh seeds
# (28 runs instead of 12, so it takes a few times as long as the main job).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet build src/AdamFamily.Cli -c Release -v quiet -nologo >/dev/null
afm() { dotnet src/AdamFamily.Cli/bin/Release/net10.0/afm.dll "$@"; }
if [ "$#" -eq 1 ] && [ "$1" = tune ]; then
  afm tune --protocol fmnist-mlp --scale quick --trials 4 --out runs/tune-fmnist-mlp-quick
elif [ "$#" -gt 0 ]; then
  afm "$@"
else
  afm compare --protocol fmnist-mlp --scale quick --out runs/fmnist-mlp-quick
fi
