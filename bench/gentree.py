#!/usr/bin/env python3
"""gentree.py: a generated capsule for the search benchmark: N pages, half
in en/, half in ru/, 100 pages a folder. Words follow Zipf's law over a
vocabulary per language: the bundled interview's own words first (the
common ones), then made-up words with the language's endings (the long
tail a real capsule has). Deterministic: the same N gives the same tree.

Usage: gentree.py DIR [PAGES] [CAPSULE]
"""

import itertools
import os
import random
import re
import sys

VOCAB = 40000  # distinct words per language
WORDS = (150, 450)  # words of text per page


def own_words(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read().lower()
    except OSError:
        return []
    count = {}
    for w in re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", text):
        count[w] = count.get(w, 0) + 1
    return sorted(count, key=lambda w: (-count[w], w))  # common first


def made_up(rng, onsets, vowels, endings, n, taken):
    out = []
    while len(out) < n:
        w = "".join(rng.choice(onsets) + rng.choice(vowels)
                    for _ in range(rng.randint(1, 3)))
        w += rng.choice(endings)
        if w not in taken:
            taken.add(w)
            out.append(w)
    return out


def vocabulary(rng, lang, capsule):
    words = own_words(os.path.join(capsule, lang,
                                   "2026-11-28-confronting-abuses.gmi"))
    taken = set(words)
    if lang == "en":
        extra = made_up(rng, list("bcdfghklmnprstvwz") + ["th", "st", "br"],
                        list("aeiou") + ["ea", "ou"],
                        ["", "s", "ed", "ing", "er", "ers", "ly", "tion"],
                        VOCAB - len(words), taken)
    else:
        extra = made_up(rng, list("бвгдзклмнпрстфхчш") + ["ст", "пр"],
                        list("аеиоуяы"),
                        ["", "а", "ы", "ов", "ами", "ой", "ие", "ию", "ия",
                         "ский", "ские", "ских", "ение", "ость"],
                        VOCAB - len(words), taken)
    vocab = words + extra
    weights = list(itertools.accumulate(1.0 / (r + 1)
                                        for r in range(len(vocab))))
    return vocab, weights


def sentence(rng, vocab, weights, n):
    ws = rng.choices(vocab, cum_weights=weights, k=n)
    return " ".join(ws).capitalize() + "."


def page(rng, vocab, weights, i):
    title = sentence(rng, vocab, weights, rng.randint(3, 7))[:-1]
    out = ["# %s %d" % (title, i), ""]
    left = rng.randint(*WORDS)
    while left > 0:
        if rng.random() < 0.15:
            out += ["", "## " + sentence(rng, vocab, weights, 4)[:-1], ""]
        n = min(left, rng.randint(30, 90))
        para, k = [], n
        while k > 0:
            m = min(k, rng.randint(6, 20))
            para.append(sentence(rng, vocab, weights, m))
            k -= m
        out.append(" ".join(para))
        left -= n
        if rng.random() < 0.2:
            out.append("=> p%05d.gmi %s" % (rng.randrange(100),
                                          sentence(rng, vocab, weights, 3)))
        if rng.random() < 0.05:
            out += ["```", sentence(rng, vocab, weights, 8), "```"]
    return "\n".join(out) + "\n"


def main():
    root = sys.argv[1]
    pages = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    capsule = sys.argv[3] if len(sys.argv) > 3 else "capsule"
    for lang in ("en", "ru"):
        rng = random.Random("kapsula-" + lang)
        vocab, weights = vocabulary(rng, lang, capsule)
        for i in range(pages // 2):
            d = os.path.join(root, lang, "%03d" % (i // 100))
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "p%05d.gmi" % i), "w",
                      encoding="utf-8") as f:
                f.write(page(rng, vocab, weights, i))
        with open(os.path.join(root, lang, "index.gmi"), "w") as f:
            f.write("# %s\n\n=> search Search\n" % lang)
    with open(os.path.join(root, "index.gmi"), "w") as f:
        f.write("# Bench\n\n=> en/ English\n=> ru/ Russian\n")


main()
