#!/usr/bin/env python3
"""Checks the generated code of maqd-rt's vector kernels (issue 13: read the
code of every variant, not only the one this CPU picks).

For every innermost loop of an object file that multiplies (vpdpbusd,
vpdpwssd, vpmaddubsw, vpmaddwd, vpopcntd, vpshufb; on AArch64 sdot and
smlal), prints the function, the number of
those instructions and the register-to-register vector moves and stores
to the stack in the loop. A tile loop should have none: each is a copy of an
accumulator the compiler failed to keep in one register (see the
-fno-tree-pre note in runtime/CMakeLists.txt). Exit status 1 if any loop has
one, except in functions matching --allow (a regular expression; the
one-block bit-serial tiles spill by choice, see kBinaryMaxPixels).

With --min-multiplies REGEX N, every innermost multiplying loop of a
function matching REGEX must also hold at least N of those instructions:
bench_runtime_kernels' limit loops run 12 independent chains, and a
compiler that proves two chains equal computes them once (the limits it
printed were 12 × one chain until the chains got distinct start values).

  python3 tools/check-kernel-loops.py --allow 'binary_tile<\d+, 1>' \
      build/runtime/CMakeFiles/maqd_rt.dir/src/kernels/avx*.cpp.o
"""
import argparse
import re
import subprocess
import sys

# Per architecture (objdump's "file format" line): the multiplies, the
# vector register copies, the vector stores to the stack and the
# conditional branches (whose target is the loop's start).
PATTERNS = {
    "x86-64": dict(
        core=re.compile(r"\b(vpdpbusd|vpdpwssd|vpmaddubsw|vpmaddwd|vpopcntd|vpshufb)\b"),
        move=re.compile(r"\bvmovdq[au](32|64)?\s+%[xyz]mm\d+,%[xyz]mm\d+"),
        stack=re.compile(r"\bvmov\S*\s+%[xyz]mm\d+,[^,]*\(%rsp\)\s*$"),
        branch=re.compile(r"\bj(?!mp)[a-z]+\s+([0-9a-f]+)\b")),
    "aarch64": dict(  # the NEON kernels (neon.cpp, neondot.cpp)
        core=re.compile(r"\b(sdot|smlal2?)\b"),
        move=re.compile(r"\bmov\s+v\d+\.16b, v\d+\.16b"),
        stack=re.compile(r"\b(str|stp|stur)\s+q\d+.*\[sp"),
        branch=re.compile(r"\b(?:b\.[a-z]+|cbn?z\s+\w+,|tbn?z\s+\w+, #\d+,)\s+([0-9a-f]+)\b")),
}


def disassemble(path, objdump):
    """The object's patterns (PATTERNS) and its functions as (name, [(address, text)])."""
    text = subprocess.run([objdump, "-d", "--no-show-raw-insn", "-C", path], check=True,
                          capture_output=True, text=True).stdout
    return PATTERNS["aarch64" if "littleaarch64" in text else "x86-64"], functions(text)


def functions(text):
    name, body = None, []
    for line in text.splitlines():
        header = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if header:
            if name:
                yield name, body
            name, body = header.group(1), []
            continue
        inst = re.match(r"^\s+([0-9a-f]+):\s+(.*)$", line)
        if inst and name:
            body.append((int(inst.group(1), 16), inst.group(2)))
    if name:
        yield name, body


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("objects", nargs="+")
    parser.add_argument("--objdump", default="objdump", help="the objdump of the objects' target")
    parser.add_argument("--allow", default=None, help="functions whose loops may have copies")
    parser.add_argument("--min-multiplies", nargs=2, metavar=("REGEX", "N"), default=None,
                        help="loops of functions matching REGEX must hold at least N multiplies")
    args = parser.parse_args()
    bad = 0
    checked = 0
    for path in args.objects:
        patterns, listed = disassemble(path, args.objdump)
        core_pattern, move_pattern, stack_pattern, branch_pattern = (
            patterns[k] for k in ("core", "move", "stack", "branch"))
        for name, body in listed:
            address = {a: i for i, (a, _) in enumerate(body)}
            loops = []
            for i, (a, text) in enumerate(body):
                m = branch_pattern.search(text)
                if m and int(m.group(1), 16) <= a and int(m.group(1), 16) in address:
                    loops.append((address[int(m.group(1), 16)], i))
            for start, end in loops:
                inner = not any(s > start and e < end for s, e in loops if (s, e) != (start, end))
                block = [t for _, t in body[start:end + 1]]
                core = sum(bool(core_pattern.search(t)) for t in block)
                if not inner or core == 0:
                    continue
                moves = sum(bool(move_pattern.search(t)) for t in block)
                stack = sum(bool(stack_pattern.search(t)) for t in block)
                short = re.sub(r"maqd_rt::kernels::|\(anonymous namespace\)::", "", name)
                print(f"{moves + stack:3d} copies ({moves} moves, {stack} stack) / {core:3d} multiplies  {short[:150]}")
                allowed = args.allow is not None and re.search(args.allow, short)
                bad += (moves + stack) > 0 and not allowed
                if args.min_multiplies and re.search(args.min_multiplies[0], short):
                    checked += 1
                    if core < int(args.min_multiplies[1]):
                        print(f"    fewer than {args.min_multiplies[1]} multiplies: chains merged?")
                        bad += 1
    if args.min_multiplies and checked == 0:
        print(f"no loop of a function matching {args.min_multiplies[0]!r} found")
        bad += 1
    print(f"{bad} loop(s) with copies or too few multiplies" + (" outside --allow" if args.allow else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
