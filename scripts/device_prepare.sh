#!/usr/bin/env bash
# Get this checkout ready for the device tool (the lent GPU machine), and back.
#
#   bash scripts/device_prepare.sh          # before the device calls
#   bash scripts/device_prepare.sh restore  # after them, before any commit
#
# 1. Wheels: the GPU machine can download nothing, and its image lacks diffusers (the Wan VAE steps of
#    scripts/device_checks.py need it; torch, numpy, safetensors, tqdm, accelerate and pytest are there). They go to
#    .whl/ (git-ignored): name ".whl" in the device call's `carry`.
# 2. Size: the tool sends the tracked working tree and refuses one over 64 MiB. The shipped ShotWorld models
#    (data/models, about 67 MB) make this tree larger, and no GPU measurement needs them (random weights throughout).
#    They are taken out of git's index and ignored through .git/info/exclude, so they stay on disk but do not travel.
#    `restore` puts them back in the index. Nothing is committed either way; do not commit in between.
set -euo pipefail
cd "$(dirname "$0")/.."
exclude=.git/info/exclude
mkdir -p .git/info && touch "$exclude"
if [ "${1:-}" = "restore" ]; then
  git reset -q -- data/models
  sed -i '\#^/data/models/$#d' "$exclude"
  git status --short -- data/models
  echo "data/models is tracked again"
  exit 0
fi
rm -rf .whl && mkdir -p .whl
py=${DEVICE_PYTHON_VERSION:-3.12}
for pkg in "diffusers==0.42.1" "importlib_metadata==8.7.0"; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$py" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --platform any -d .whl "$pkg"
done
git rm -r -q --cached -- data/models
grep -qx '/data/models/' "$exclude" || echo '/data/models/' >> "$exclude"
tracked=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
others=$(git ls-files -z --others --exclude-standard | xargs -0 -r du -cb 2>/dev/null | tail -1 | cut -f1)
wheels=$(du -sb .whl | cut -f1)
echo "travels: $(( (tracked + ${others:-0} + wheels) / 1048576 )) MiB (tracked $(( tracked / 1048576 )), untracked $(( ${others:-0} / 1048576 )), .whl $(( wheels / 1048576 ))); the limit is 64 MiB"
echo "data/models stays on disk but out of the index; run 'bash scripts/device_prepare.sh restore' afterwards"
