#!/usr/bin/python3
"""flufl-corpus - the real bounces Debian's python3-flufl.bounce ships, as a corpus.

    flufl-corpus.py OUT_DIR

Writes OUT_DIR/NNNN.eml (links to the package's tests/data/*.txt) and
OUT_DIR/expected.tsv in the format bounce-score.py reads. The expected
recipients are those of the package's own detector table (DATA in
flufl/bounce/testing/helpers.py), read with ast so that none of the
package's test machinery is imported; a file the table names under several
detectors expects the union. Temporary failures are class "soft"; the table
does not say whether a permanent one is the address's fault, so those are
"unknown", as in ../shared/corpus/bounces. Exit 2 when the package is absent.
"""
import ast
import os
import sys

PKG = "/usr/lib/python3/dist-packages/flufl/bounce"


def detector_table():
    tree = ast.parse(open(f"{PKG}/testing/helpers.py").read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "DATA" for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit("flufl-corpus: no DATA table in the package's helpers.py")


def main():
    out = sys.argv[1]
    if not os.path.isdir(f"{PKG}/tests/data"):
        print(f"flufl-corpus: {PKG}/tests/data not present", file=sys.stderr)
        sys.exit(2)
    want, temporary, order = {}, {}, []
    for entry in detector_table():
        _, name, addrs = entry[:3]
        if name not in want:
            want[name] = set()
            order.append(name)
        want[name] |= {a.decode().lower() for a in addrs}
        temporary[name] = len(entry) > 3 and entry[3]
    os.makedirs(out, exist_ok=True)
    with open(f"{out}/expected.tsv", "w") as tsv:
        tsv.write("file\tsource\trecipients\tclass\treason\tperm\tstatus\n")
        for i, name in enumerate(order, 1):
            eml = f"{i:04d}.eml"
            path = f"{out}/{eml}"
            if os.path.lexists(path):
                os.unlink(path)
            os.symlink(f"{PKG}/tests/data/{name}", path)
            cls, perm = ("soft", "temporary") if temporary[name] else ("unknown", "unknown")
            tsv.write(f"{eml}\tpython3-flufl.bounce:tests/data/{name}\t"
                      f"{','.join(sorted(want[name]))}\t{cls}\t\t{perm}\t\n")


if __name__ == "__main__":
    main()
