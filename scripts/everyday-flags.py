#!/usr/bin/env python3
"""List the everyday posts a built rampart flags, for labelling by hand.

usage: scripts/everyday-flags.py OUT.jsonl [--bin target/release/rampart] [-- SCAN_ARGS...]

Scans ../shared/eval/everyday/everyday_en.jsonl and writes every flagged
post (review or above) to OUT.jsonl as {"id", "action", "text"} in a random
order fixed by a hash of the id, for people to label. OUT.jsonl holds the
texts of the everyday stream: write it outside the repository (the stream
is read by path, never copied). The labels go to
models/training/everyday_flag_audit.jsonl as {"id", "label", "kind"}
(label: "harmful", "worth_review" or "lawful"; kind: what the post is),
which crates/rampart/tests/blind_eval.rs reads.
"""
import hashlib
import json
import subprocess
import sys

EV = "../shared/eval/everyday/everyday_en.jsonl"
args = sys.argv[1:]
if not args or args[0].startswith("-"):
    sys.exit(__doc__)
out_path, args = args[0], args[1:]
binary = "target/release/rampart"
if args[:1] == ["--bin"]:
    binary, args = args[1], args[2:]
scan_args = args[1:] if args[:1] == ["--"] else args
if out_path.startswith("models/"):
    sys.exit("write the texts outside the repository")
raw = subprocess.run([binary, "scan", "--no-progress", *scan_args, EV], capture_output=True, check=True).stdout
flagged = {v["id"]: v["action"] for v in map(json.loads, raw.splitlines()) if v.get("kind") == "verdict" and v["action"] != "allow"}
texts = {d["id"]: d["text"] for d in map(json.loads, open(EV, encoding="utf-8")) if d["id"] in flagged}
order = sorted(flagged, key=lambda i: hashlib.sha256(i.encode()).hexdigest())
with open(out_path, "w", encoding="utf-8") as f:
    for i in order:
        f.write(json.dumps({"id": i, "action": flagged[i], "text": texts[i]}, ensure_ascii=False) + "\n")
print(f"{len(order)} flagged posts written to {out_path}")
