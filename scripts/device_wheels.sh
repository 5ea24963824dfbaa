#!/usr/bin/env bash
# Wheels for the lent GPU machine, which can download nothing: the packages scripts/device_checks.py needs there that
# its image lacks (diffusers for the Wan VAE step; torch, numpy, safetensors, tqdm, accelerate, pytest are there).
# Run here, in the repository root, then name .whl in the device call's `carry` (see scripts/device_checks.py).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .whl && mkdir -p .whl
py=${DEVICE_PYTHON_VERSION:-3.12}
for pkg in "diffusers==0.42.1" "importlib_metadata==8.7.0"; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$py" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --platform any -d .whl "$pkg"
done
ls -l .whl
du -sh .whl
