#!/usr/bin/python3
"""No runner names an implementation: what runners know of one (SGD's lr/momentum mapping, which
are the LibTorch and DeepSpeed peers, the oracle) comes from its registration's impl_traits.

  impl_names.py ROOT   exit 0 clean, 1 a violation (FILE:LINE: what), 3 nothing checked

Every C++ source under bench/ but bench/impls/ (where implementations register) is read for
  - an include of an impls/ header;
  - a registered name as a string literal compared or searched for (==, !=, find, rfind,
    starts_with, ends_with, compare, count, contains), or held by a constant (`x = "libtorch";`).
The registered names are read from every ADAMBENCH_REGISTER_IMPL under bench/impls/ and
examples/; a registration whose name is not a literal fails the check (it could not be looked for).
Lists of default implementations (a suite's `impls = ["eigen", "libtorch"]`) are data, not a
choice by name, and are allowed. Before it reads the tree, the check plants one violation of each
form into a copy of a runner file and fails unless it finds every one, so it cannot pass blind.
"""
import re
import sys
from pathlib import Path

REGISTER_RE = re.compile(r"ADAMBENCH_REGISTER_IMPL\(\s*(\"([^\"]+)\")?")
INCLUDE_RE = re.compile(r'#\s*include\s*[<"]impls/')
SOURCE_SUFFIXES = {".cpp", ".h", ".cu", ".cuh", ".hpp"}


def registered_names(root):
    """The literal names of every registration, and the registrations whose name is no literal."""
    names, unnamed = set(), []
    for top in ("bench/impls", "examples"):
        for f in sorted((root / top).rglob("*")):
            if f.suffix not in SOURCE_SUFFIXES: continue
            for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
                if "#define" in line: continue
                for m in REGISTER_RE.finditer(line):
                    if m.group(2): names.add(m.group(2))
                    else: unnamed.append(f"{f.relative_to(root)}:{n}")
    return names, unnamed


def comparison_re(names):
    lit = "|".join(re.escape(f'"{n}"') for n in sorted(names, key=len, reverse=True))
    calls = r"(?:\bfind|\brfind|\bstarts_with|\bends_with|\bcompare|\bcount|\bcontains)\s*\((?:[^()\"]*,\s*)?"
    named = rf"(?<![=!<>])=\s*(?:{lit})\s*;"  # a constant holding one name (`deepspeed_peer = "deepspeed-cpu";`)
    return re.compile(rf"(?:==|!=)\s*(?:{lit})|(?:{lit})\s*(?:==|!=)|{calls}(?:{lit})|{named}")


def violations(rel, text, cmp_re):
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        code = line.split("//", 1)[0]
        if INCLUDE_RE.search(code): out.append(f"{rel}:{n}: includes an impls/ header: {line.strip()}")
        elif cmp_re.search(code): out.append(f"{rel}:{n}: compares an implementation's name to a literal: {line.strip()}")
    return out


def runner_files(root):
    return [f for f in sorted((root / "bench").rglob("*"))
            if f.suffix in SOURCE_SUFFIXES and "impls" not in f.relative_to(root / "bench").parts[:1]]


def self_test(root, cmp_re, names):
    """Plants each form into a copy of a runner file; every one must be found."""
    host = root / "bench/speed/speed_grid.cpp"
    text = host.read_text()
    some = sorted(names)[0]
    planted = ['#include "impls/sgd_momentum.h"', f'  if (e->name == "{some}") lt = 0;',
               f'  bool ds = "{some}" != name;', f'  return name.rfind("{some}", 0) == 0;',
               f'  if (peers.count("{some}")) return;', f'inline constexpr const char* peer = "{some}";']
    before = len(violations("planted", text, cmp_re))
    missed = [p for p in planted if len(violations("planted", text + "\n" + p + "\n", cmp_re)) != before + 1]
    quiet = violations("planted", text + '\n  // e->name == "' + some + '" in a comment\n', cmp_re)[before:]
    if missed or quiet:
        print(f"impl_names: the self-test failed: missed {missed}, flagged a comment: {quiet}", file=sys.stderr)
        return False
    return True


def main(argv):
    if len(argv) != 2:
        print("usage: impl_names.py ROOT", file=sys.stderr)
        return 2
    root = Path(argv[1]).resolve()
    names, unnamed = registered_names(root)
    files = runner_files(root)
    if not names or not files:
        print(f"impl_names: nothing checked under {root} ({len(names)} names, {len(files)} files)", file=sys.stderr)
        return 3
    cmp_re = comparison_re(names)
    if not self_test(root, cmp_re, names): return 1
    bad = [f"{u}: a registration whose name is not a string literal" for u in unnamed]
    for f in files: bad += violations(f.relative_to(root), f.read_text(errors="replace"), cmp_re)
    for b in bad: print(b)
    print(f"impl_names: {len(files)} files under bench/ (but impls/) against {len(names)} registered names: "
          f"{len(bad)} violation(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
