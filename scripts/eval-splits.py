#!/usr/bin/env python3
"""Scan the evaluation sets with a built rampart and print one table.

usage: scripts/eval-splits.py [--bin target/release/rampart] [-- SCAN_ARGS...]

Sets: the dev set, the corpus's tune and blind splits (the blind figures
are reported, never tuned to), and the everyday stream by part (train /
tune / held-out quarter, the same hash as `rampart train-screen`): share
flagged (review or above), share removed, and the share flagged of the
posts its annotators put under threats and incitement.
"""
import hashlib
import json
import subprocess
import sys
from collections import defaultdict

args = sys.argv[1:]
binary = "target/release/rampart"
sets = "dev,tune,blind,everyday"
while args[:1] in (["--bin"], ["--sets"]):
    if args[0] == "--bin":
        binary = args[1]
    else:
        sets = args[1]
    args = args[2:]
sets = sets.split(",")
scan_args = args[1:] if args[:1] == ["--"] else args
EV = "../shared/eval/everyday/everyday_en.jsonl"
EVL = "../shared/eval/everyday/everyday_en_labels.jsonl"


def scan(path):
    out = subprocess.run([binary, "scan", *scan_args, path], capture_output=True, check=True).stdout
    return {v["id"]: v for v in map(json.loads, out.splitlines()) if v.get("kind") == "verdict"}


def batch(x):
    """The corpus batch of a post: writers w1-w8 wrote the first (2026-12-01),
    w9-w16 the second and w17-w24 the third (2026-12-02), each writer in a
    register of its own."""
    w = x["id"].split("-")[0]
    n = int(w[1:]) if w.startswith("w") and w[1:].isdigit() else 0
    return f"batch{(max(n, 1) - 1) // 8 + 1}"


def score(path, keep=lambda x: True, v=None):
    v = v or scan(path)
    gold = [x for x in map(json.loads, open(path, encoding="utf-8").read().splitlines()) if keep(x)]
    res = {}
    for lang in ("all", "en", "es"):
        g = [x for x in gold if lang == "all" or x.get("lang") == lang]
        harm = [x for x in g if x["expected_action"] != "allow"]
        law = [x for x in g if x["expected_action"] == "allow"]
        flagged = lambda x: v[x["id"]]["action"] != "allow"
        res[lang] = (sum(map(flagged, harm)) / max(1, len(harm)), sum(map(flagged, law)) / max(1, len(law)), len(g))
    f1 = {}
    for c in ("threat", "bounty", "doxxing", "targeted_surveillance"):
        tp = fp = fn = 0
        for x in gold:
            hg = c in x.get("labels", [])
            hp = any(l["category"] == c for l in v[x["id"]]["labels"])
            tp += hg and hp; fp += hp and not hg; fn += hg and not hp
        p = tp / max(1, tp + fp); r = tp / max(1, tp + fn)
        f1[c] = 2 * p * r / max(1e-9, p + r)
    tiers = [(x["tier"], [l.get("tier") for l in v[x["id"]]["labels"] if l["category"] == "bounty"]) for x in gold if "bounty" in x.get("labels", []) and x.get("tier")]
    tiers = [(t, p[0]) for t, p in tiers if p]
    tier_acc = sum(t == p for t, p in tiers) / max(1, len(tiers))
    return res, f1, tier_acc


def part(i):
    k = int.from_bytes(hashlib.sha256(("everyday:" + i).encode()).digest()[:8], "little") % 4
    return "train" if k < 2 else ("tune" if k == 2 else "held_out")


for name, path in [("dev", "../shared/eval/dev_posts.jsonl"), ("tune", "models/training/tune.jsonl"), ("blind", "models/training/blind.jsonl")]:
    if name not in sets:
        continue
    v = scan(path)
    parts = [(name, lambda x: True)]
    if name != "dev":
        parts += [(f"  {b}", lambda x, b=b: batch(x) == b) for b in ("batch1", "batch2", "batch3")]
    for label, keep in parts:
        res, f1, tier = score(path, keep, v)
        print(f"{label:8} " + "  ".join(f"{l}: caught {c:.3f} fpr {f:.3f} (n={n})" for l, (c, f, n) in res.items()))
        print("         F1 " + " ".join(f"{c[:6]} {x:.3f}" for c, x in f1.items()) + f"  tier acc {tier:.3f}")
if "everyday" not in sets:
    sys.exit(0)
v = scan(EV)
lab = {d["id"]: d["edos_category"] for d in map(json.loads, open(EVL))}
t = defaultdict(lambda: [0, 0, 0, 0, 0])
for i, x in v.items():
    p = part(i)
    for key in (p, "all"):
        r = t[key]
        r[0] += 1
        r[1] += x["action"] != "allow"
        r[2] += x["action"] in ("remove", "escalate")
        if lab.get(i, "").startswith("1."):
            r[3] += 1
            r[4] += x["action"] != "allow"
for k in ("train", "tune", "held_out", "all"):
    n, f, rm, th, thf = t[k]
    print(f"everyday {k:8} flagged {f / n:.4f} removed {rm / n:.4f} threats flagged {thf / max(1, th):.3f} (n={n}, threats={th})")
