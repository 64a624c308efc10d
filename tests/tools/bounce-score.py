#!/usr/bin/python3
"""bounce-score - herald classify over a corpus of real bounces, scored.

    bounce-score.py HERALD CORPUS_DIR [--verbose]

CORPUS_DIR holds NNNN.eml files and expected.tsv (file, source, recipients,
class, reason, perm, status). Prints recall and precision of the failed
recipients found, and how often hard/soft agrees where the corpus says.
Lines of the form "# key: value" go to stdout; a misses report to stderr
with --verbose.
"""
import csv
import subprocess
import sys


def main():
    herald, corpus = sys.argv[1], sys.argv[2]
    verbose = "--verbose" in sys.argv
    rows = list(csv.DictReader(open(f"{corpus}/expected.tsv"), delimiter="\t"))
    want_n = found_n = right_n = 0
    cls_n = cls_right = 0
    for row in rows:
        want = {a for a in row["recipients"].split(",") if a}
        # From /, so that no config is found: the corpus knows no tokens of ours.
        out = subprocess.run([herald, "classify", f"{corpus}/{row['file']}"],
                             capture_output=True, text=True, cwd="/")
        got = {}
        for line in out.stdout.splitlines():
            f = line.split("\t")
            if f[0] == "bounce" and len(f) == 4 and f[2] != "-":
                got[f[2]] = f[1]
        want_n += len(want)
        found_n += len(got)
        right = want & set(got)
        right_n += len(right)
        if row["class"] in ("hard", "soft"):
            for a in right:
                cls_n += 1
                cls_right += got[a] == row["class"]
                if verbose and got[a] != row["class"]:
                    print(f"{row['file']}: {a} {got[a]}, want {row['class']}", file=sys.stderr)
        if verbose and (want - set(got) or set(got) - want):
            print(f"{row['file']}: missed {sorted(want - set(got))} false {sorted(set(got) - want)}"
                  f" [{out.stdout.strip()[:80]}]", file=sys.stderr)
    recall = right_n / want_n if want_n else 0
    precision = right_n / found_n if found_n else 0
    print(f"# messages: {len(rows)}")
    print(f"# recall: {recall:.3f} ({right_n}/{want_n})")
    print(f"# precision: {precision:.3f} ({right_n}/{found_n})")
    print(f"# hard/soft accuracy: {cls_right / cls_n if cls_n else 0:.3f} ({cls_right}/{cls_n})")


if __name__ == "__main__":
    main()
