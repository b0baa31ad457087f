"""Ingest time and peak memory for each real filing (shared/filings and its corpus/), beside
Arelle's time on the same file for the XBRL and inline-XBRL ones, and PDF text beside bare pypdfium2.

    python benchmarks/bench_ingest.py [FILINGS_DIR] [--no-arelle]

Arelle (arelle-release, a test-only dependency) loads each file in its own subprocess, offline,
beside the stand-in schema of tests/filings/arelle_oracle.py; its column is that load plus
reading every numeric fact, without the oracle's cache.

Each file is ingested in its own subprocess (a warm-up run, then a measured run) so one file's
memory does not hide another's; peak memory is tracemalloc's peak of Python allocations during a
third ingest (the C libraries' own buffers, lxml's and PDFium's, are outside it) and the
process's max RSS growth over the first two (imports included). The PDF comparison runs both extractions alternately in this process
and reports the best of several rounds. Targets: the 10-K HTML in under 2 s, PDF text under 2x
bare pypdfium2, peak memory under 10x the file size. A slow machine prints slow numbers; nothing
here fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHILD = r"""
import json, resource, sys, time, tracemalloc
from finstream.filings.ingest import ingest
path = sys.argv[1]
data = open(path, "rb").read()
name = path.rsplit("/", 1)[-1]
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
ingest(name, data)  # warm-up: imports and first-use caches
t = time.perf_counter()
f = ingest(name, data)  # timed without tracemalloc, which slows Python code several times
elapsed = time.perf_counter() - t
del f
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
f = ingest(name, data)
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(json.dumps({"format": f.format, "seconds": elapsed, "peak": peak, "rss_growth": (rss1 - rss0) * 1024,
                  "facts": len(f.facts), "tables": len(f.tables), "sections": len(f.sections)}))
"""


def measure(path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, cwd=REPO, check=False
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


ARELLE_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[2])
from pathlib import Path
from tests.filings.arelle_oracle import _run_arelle
t = time.perf_counter()
r = _run_arelle(Path(sys.argv[1]))
print(json.dumps({"seconds": time.perf_counter() - t, "facts": len(r["facts"])}))
"""


def is_xbrl(path: Path) -> bool:
    head = path.read_bytes()[:3_000_000]
    return path.suffix.lower() in (".htm", ".html", ".xml") and (
        b"ix:header" in head or b"<xbrl" in head[:5000] or b":xbrl" in head[:5000]
    )


def measure_arelle(path: Path) -> dict | None:
    out = subprocess.run(
        [sys.executable, "-c", ARELLE_CHILD, str(path), str(REPO)], capture_output=True, text=True, cwd=REPO,
        check=False,
    )
    if out.returncode != 0:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def bare_pdfium(data: bytes) -> int:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    n = 0
    for i in range(len(pdf)):
        n += len(pdf[i].get_textpage().get_text_range())
    pdf.close()
    return n


def finstream_pdf_text(data: bytes) -> int:
    from finstream.filings.model import Section
    from finstream.filings.pdf import page_texts

    texts = page_texts("bench.pdf", data)
    sections = [Section(title=f"Page {i + 1}", text=t.strip(), page=i + 1) for i, t in enumerate(texts) if t.strip()]
    return sum(len(s.text) for s in sections)


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    with_arelle = "--no-arelle" not in sys.argv
    default = REPO / ".." / "shared" / "filings"
    root = Path(args[0] if args else os.environ.get("FINSTREAM_FILINGS_DIR", default)).resolve()
    files = sorted(p for d in (root, root / "corpus") if d.is_dir() for p in d.iterdir()
                   if p.is_file() and p.name != "SOURCES.md")
    print(f"{'file':<34} {'format':<12} {'size':>9} {'ingest s':>9} {'peak MB':>8} {'peak/size':>9} "
          f"{'RSS+ MB':>8} {'facts':>6} {'tables':>6} {'Arelle s':>9} {'ratio':>6}")
    ours_total = arelle_total = 0.0
    for p in files:
        r = measure(p)
        size = p.stat().st_size
        if "error" in r:
            print(f"{p.name:<34} error: {r['error']}")
            continue
        a = measure_arelle(p) if with_arelle and is_xbrl(p) else None
        arelle = f"{a['seconds']:>9.3f} {a['seconds'] / r['seconds']:>5.1f}x" if a else f"{'':>9} {'':>6}"
        if a:
            ours_total += r["seconds"]
            arelle_total += a["seconds"]
        print(
            f"{p.name:<34} {r['format']:<12} {size / 1e6:>8.2f}M {r['seconds']:>9.3f} {r['peak'] / 1e6:>8.1f} "
            f"{r['peak'] / size:>8.1f}x {r['rss_growth'] / 1e6:>8.1f} {r['facts']:>6} {r['tables']:>6} {arelle}"
        )
    if arelle_total:
        print(f"\nXBRL/iXBRL files: finstream {ours_total:.2f} s in all, Arelle {arelle_total:.2f} s "
              f"({arelle_total / ours_total:.1f}x)")
    pdfs = [p for p in files if p.suffix.lower() == ".pdf"]
    for p in pdfs:
        data = p.read_bytes()
        bare_pdfium(data)
        finstream_pdf_text(data)  # warm both
        bare, ours = [], []
        for _ in range(3):
            t = time.perf_counter()
            bare_pdfium(data)
            bare.append(time.perf_counter() - t)
            t = time.perf_counter()
            finstream_pdf_text(data)
            ours.append(time.perf_counter() - t)
        b, o = min(bare), min(ours)
        from finstream.filings.pdf import load_pdf

        t = time.perf_counter()
        full = load_pdf(p.name, data)
        whole = time.perf_counter() - t
        print(
            f"\n{p.name}: full text {o:.3f} s (finstream) vs {b:.3f} s (bare pypdfium2) = {o / b:.2f}x; "
            f"with tables on {len({t.page for t in full.tables})} statement pages: {whole:.3f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
