"""Differential test: finstream's numeric XBRL facts against Arelle's, file by file.

Arelle (arelle-release, test-only) reads each inline-XBRL and XBRL file of shared/filings beside a
stand-in schema (see arelle_oracle.py); its results are cached per file. Facts are compared on
concept, period, dimensions, unit and value. Arelle's facts whose ``format`` comes from SEC's own
registry (ixt-sec, e.g. numwordsen "two") are not valued by arelle-release: they are counted
apart and checked against SEC's rule in test_ixt_transforms.py.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.filings.xbrl_compare import compare, primary_keys
from tests.support.filings import FILINGS_DIR

pytest.importorskip("arelle", reason="arelle-release (requirements-dev.txt) is the oracle")
# The first test's set-up runs Arelle over every file (minutes on a shared 2-core box, beyond the
# suite's 120 s hang guard); the guard still catches a hang.
pytestmark = pytest.mark.timeout(900)


def _xbrl_files() -> list[str]:
    out = []
    for p in sorted([*FILINGS_DIR.glob("*"), *FILINGS_DIR.glob("corpus/*")]):
        if p.suffix.lower() not in (".htm", ".html", ".xml"):
            continue
        head = p.read_bytes()[:3_000_000]
        if b"ix:header" in head or b"<xbrl" in head[:5000] or b":xbrl" in head[:5000]:
            out.append(str(p.relative_to(FILINGS_DIR)))
    return out


FILES = _xbrl_files() if FILINGS_DIR.is_dir() else []


@pytest.fixture(scope="session")
def agreements(parsed, filings_dir):
    from tests.filings.arelle_oracle import arelle_facts

    out = {}
    for name in FILES:
        primary = None
        sibling = name.replace("_htm.xml", ".htm")  # EDGAR's instance extracted from the iXBRL document
        if sibling != name and sibling in FILES:
            primary = primary_keys(parsed(sibling))
        out[name] = compare(name, parsed(name), arelle_facts(Path(filings_dir) / name), primary)
    return out


def test_the_corpus_holds_the_xbrl_files_the_issue_names(agreements):
    assert len(agreements) >= 18


@pytest.mark.parametrize("name", FILES)
def test_every_primary_statement_fact_agrees_with_arelle(agreements, name):
    r = agreements[name]
    assert not r.wrong, r.wrong[:5]
    assert r.primary_agree == r.primary
    assert not r.missing, r.missing[:5]


def test_at_least_999_per_mille_of_all_facts_agree(agreements):
    total = sum(r.arelle + len(r.extra) for r in agreements.values())
    agree = sum(r.agree for r in agreements.values())
    assert total > 15_000
    assert agree / total >= 0.999, f"{agree}/{total}"
    primary = sum(r.primary for r in agreements.values())
    assert primary > 2_500 and sum(r.primary_agree for r in agreements.values()) == primary
    # The instances extracted from iXBRL documents are checked on the same statement facts.
    assert agreements["aapl-20250329_htm.xml"].primary == agreements["aapl-20250329.htm"].primary > 200


def test_facts_arelle_cannot_value_are_only_sec_registry_formats(agreements):
    formats = Counter(f["format"] for r in agreements.values() for f in r.unvalued)
    assert formats and all(fmt.startswith("ixt-sec:") for fmt in formats), formats


# The document period's label must be what the filing's own cover says it is.
@pytest.mark.parametrize("name", FILES)
def test_period_labels_match_the_covers_fiscal_focus(parsed, name):
    f = parsed(name)
    fy, fp = f.dei.get("DocumentFiscalYearFocus"), f.dei.get("DocumentFiscalPeriodFocus")
    if not fy or not fp or f.period_end is None:
        pytest.skip("no fiscal focus on the cover (8-K)")
    expected = f"FY{fy}" if fp == "FY" else f"{fp} FY{fy}"
    own = [x for x in f.facts if x.period_end == f.period_end and not x.dimensions and x.period_start is not None]
    quarters = [x for x in own if 80 <= (x.period_end - x.period_start).days <= 100]
    years = [x for x in own if 350 <= (x.period_end - x.period_start).days <= 380]
    checked = quarters if fp != "FY" else years
    if not checked:
        pytest.skip("no duration facts for the document period (cover-only filing)")
    assert {x.source.period for x in checked} == {expected}
    instants = {x.source.period for x in f.facts if x.period_start is None and x.period_end == f.period_end
                and not x.concept.startswith("dei:")}
    assert instants <= {expected}
