#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the real seeds of fuzz_go_binary (tests/fuzz/corpus/go_binary/real-*) from a Go
program built here with Debian's golang-go, cut down to a few hundred bytes:

  real-buildinfo  the binary's .go.buildinfo as it is (version and module text)
  real-pclntab    its .gopclntab keeping only what capture/go_binary.c reads: the real
                  72-byte header (nfunc and offsets rewritten), the names, and the functab
                  entries and _func heads of crypto/tls.(*Conn).Write and Read, main.main
                  and the function after each (whose entry ends it), as the linker put them

Run from the repository root: python3 tests/fuzz/make_go_seeds.py
"""
import os
import struct
import subprocess
import sys
import tempfile

OUT = "tests/fuzz/corpus/go_binary"
WANTED = ["crypto/tls.(*Conn).Write", "crypto/tls.(*Conn).Read", "main.main"]
FUNC_HEAD = 44  # entryOff nameOff args deferreturn pcsp pcfile pcln npcdata cuOffset ... nfuncdata
PROGRAM = """package main

import (
	"crypto/tls"
	"os"
)

func main() {
	c, err := tls.Dial("tcp", "127.0.0.1:1", &tls.Config{})
	if err != nil {
		os.Exit(1)
	}
	c.Write([]byte("x"))
	c.Read(make([]byte, 1))
}
"""


def section(binary, name, work):
    out = os.path.join(work, name.strip("."))
    subprocess.run(["objcopy", "-O", "binary", "--only-section=" + name, binary, out], check=True)
    return open(out, "rb").read()


def cut_pclntab(tab):
    magic, pad, quantum, ptrsize = struct.unpack_from("<IHBB", tab, 0)
    nfunc, nfiles, text, names, cu, files, pc, pcln = struct.unpack_from("<8Q", tab, 8)
    assert magic in (0xFFFFFFF0, 0xFFFFFFF1) and (quantum, ptrsize) == (1, 8), "not a Go 1.18+ amd64 table"
    entries = [struct.unpack_from("<II", tab, pcln + 8 * i) for i in range(nfunc + 1)]

    def name(funcoff):
        nameoff = struct.unpack_from("<i", tab, pcln + funcoff + 4)[0]
        start = names + nameoff
        return tab[start:tab.index(b"\0", start)]

    keep = set()
    for i in range(nfunc):
        if name(entries[i][1]).decode() in WANTED:
            keep |= {i, i + 1}
    missing = set(WANTED) - {name(entries[i][1]).decode() for i in keep if i < nfunc}
    assert not missing, f"not in the table: {missing}"
    keep = sorted(i for i in keep if i < nfunc)

    # names first, then the functab (k entries and the end word), then the _func heads
    nametab, nameoffs = b"", {}
    for i in keep:
        nameoffs[i] = len(nametab)
        nametab += name(entries[i][1]) + b"\0"
    names_at = 72
    pcln_at = (names_at + len(nametab) + 7) & ~7
    functab, funcs = b"", b""
    funcs_at = 8 * (len(keep) + 1)
    for i in keep:
        entryoff, funcoff = entries[i]
        head = bytearray(tab[pcln + funcoff:pcln + funcoff + FUNC_HEAD])
        struct.pack_into("<i", head, 4, nameoffs[i])
        functab += struct.pack("<II", entryoff, funcs_at + len(funcs))
        funcs += bytes(head)
    functab += struct.pack("<I", entries[keep[-1] + 1][0]) + b"\0" * 4
    end_of_names = names_at + len(nametab)
    header = struct.pack("<IHBB8Q", magic, pad, quantum, ptrsize, len(keep), 0, text, names_at,
                         end_of_names, end_of_names, end_of_names, pcln_at)
    return header + nametab + b"\0" * (pcln_at - end_of_names) + functab + funcs


def main():
    with tempfile.TemporaryDirectory() as work:
        src = os.path.join(work, "main.go")
        open(src, "w").write(PROGRAM)
        binary = os.path.join(work, "seed")
        env = dict(os.environ, GOCACHE=os.path.join(work, "cache"), GOFLAGS="-mod=mod",
                   GO111MODULE="off", CGO_ENABLED="0")
        subprocess.run(["go", "build", "-trimpath", "-o", binary, src], check=True, env=env, cwd=work)
        buildinfo = section(binary, ".go.buildinfo", work)
        pclntab = cut_pclntab(section(binary, ".gopclntab", work))
    open(os.path.join(OUT, "real-buildinfo"), "wb").write(buildinfo)
    open(os.path.join(OUT, "real-pclntab"), "wb").write(pclntab)
    print(f"{OUT}/real-buildinfo: {len(buildinfo)} bytes, {OUT}/real-pclntab: {len(pclntab)} bytes")


if __name__ == "__main__":
    sys.exit(main())
