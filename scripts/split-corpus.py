#!/usr/bin/env python3
"""Split the hand-written corpus into train / tune / blind, stratified.

usage: scripts/split-corpus.py models/training/corpus/*/part-*.jsonl

Every post is assigned by a fixed hash of its id within its stratum
(writer, language, expected action, label set): the first 16% of each
stratum in hash order go to blind.jsonl, the next 14% to tune.jsonl, the
rest to train.jsonl. Posts whose wording repeats the dev set (an exact
text, or 8 consecutive words in common) are dropped and counted. The
blind split is never trained on and never tuned to: it is only reported.

Assignments are frozen once made: a post already in train.jsonl,
tune.jsonl or blind.jsonl keeps its split (and its line), and only posts
new to the corpus are split, stratified among themselves. So a later batch
of writers grows every split without moving a blind post into training.
"""
import hashlib
import json
import re
import sys
from collections import defaultdict

DEV = "../shared/eval/dev_posts.jsonl"
OUT = "models/training"
REQUIRED = ("id", "text", "labels", "expected_action", "lang")


def words(t):
    return re.findall(r"\w+", t.lower())


def shingles(t, n=8):
    w = words(t)
    return {" ".join(w[i:i + n]) for i in range(len(w) - n + 1)}


def h(s):
    return hashlib.sha256(s.encode()).hexdigest()


def main(paths):
    dev = [json.loads(l) for l in open(DEV, encoding="utf-8") if l.strip()]
    dev_texts = {d["text"].strip().lower() for d in dev}
    dev_sh = set().union(*(shingles(d["text"]) for d in dev))
    strata = defaultdict(list)
    frozen = {name: [] for name in ("train", "tune", "blind")}
    for name in frozen:
        try:
            with open(f"{OUT}/{name}.jsonl", encoding="utf-8") as f:
                frozen[name] = [json.loads(l) for l in f if l.strip()]
        except FileNotFoundError:
            pass
    known = {d["id"] for posts in frozen.values() for d in posts}
    seen = {d["text"].strip().lower() for posts in frozen.values() for d in posts}
    dropped = defaultdict(int)
    for p in paths:
        for n, line in enumerate(open(p, encoding="utf-8"), 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{p}:{n}: {e}")
            missing = [k for k in REQUIRED if k not in d]
            if missing:
                sys.exit(f"{p}:{n}: missing {missing}")
            if d["id"] in known:
                continue
            key = d["text"].strip().lower()
            if key in seen:
                dropped["duplicate"] += 1
                continue
            if key in dev_texts or shingles(d["text"]) & dev_sh:
                dropped["repeats dev wording"] += 1
                continue
            seen.add(key)
            writer = d["id"].split("-")[0]
            stratum = (writer, d["lang"], d["expected_action"], tuple(sorted(d["labels"])))
            strata[stratum].append(d)
    splits = {"train": [], "tune": [], "blind": []}
    new = {name: 0 for name in splits}
    for posts in strata.values():
        posts.sort(key=lambda d: h(d["id"]))
        k = len(posts)
        nb = round(k * 0.16)
        nt = round(k * 0.14)
        # Strata too small to round to one post still feed blind first.
        if k >= 2 and nb == 0:
            nb = 1
        splits["blind"] += posts[:nb]
        splits["tune"] += posts[nb:nb + nt]
        splits["train"] += posts[nb + nt:]
    for name, posts in splits.items():
        new[name] = len(posts)
        posts.sort(key=lambda d: d["id"])
        with open(f"{OUT}/{name}.jsonl", "w", encoding="utf-8") as f:
            # The frozen posts first, as they were, then the new ones.
            for d in frozen[name] + posts:
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
        print(name, len(frozen[name]) + len(posts), f"({new[name]} new)")
    print("dropped", dict(dropped))


if __name__ == "__main__":
    main(sys.argv[1:])
