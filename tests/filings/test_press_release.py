"""HTML earnings releases (EX-99.1): the statements' figures under the release's quarter."""

from __future__ import annotations

from finstream.filings.ingest import ingest
from finstream.filings.series import financial_series

RELEASE = """<html><body>
<p>Exhibit 99.1</p>
<p>Example Corp Reports Second Quarter Fiscal 2025 Results</p>
<p>Condensed Consolidated Statements of Income (In millions, except per share data)</p>
<table>
<tr><td></td><td>Three Months Ended</td><td></td></tr>
<tr><td></td><td>June 28, 2025</td><td>June 29, 2024</td></tr>
<tr><td>Total revenue</td><td>$ 1,500</td><td>$ 1,400</td></tr>
<tr><td>Operating income</td><td>300</td><td>280</td></tr>
<tr><td>Net income</td><td>$ 200</td><td>$ 190</td></tr>
<tr><td>Diluted net income per share</td><td>$ 2.00</td><td>$ 1.90</td></tr>
</table>
<p>Non-GAAP Results: the following table reconciles GAAP to non-GAAP results (In millions)</p>
<table>
<tr><td></td><td>Three Months Ended</td><td></td></tr>
<tr><td></td><td>June 28, 2025</td><td>June 29, 2024</td></tr>
<tr><td>Net income</td><td>$ 260</td><td>$ 240</td></tr>
<tr><td>Operating income</td><td>380</td><td>350</td></tr>
<tr><td>Other</td><td>1</td><td>2</td></tr>
</table>
</body></html>"""


def test_release_figures_come_from_its_statement_under_its_quarter():
    f = ingest("ex99.htm", RELEASE.encode())
    assert (f.form, f.company, f.fiscal_period) == ("EX-99.1", "Example Corp", "Q2 FY2025")
    for metric, value in (("revenue", 1_500e6), ("operating income", 300e6), ("net income", 200e6), ("eps", 2.0)):
        point = financial_series([f], metric, period_type="quarterly")["points"][-1]
        assert (point["period"], point["value"]) == ("Q2 FY2025", value), metric
    assert not f.warnings


def test_a_release_without_a_titled_statement_is_warned():
    f = ingest("ex99.htm", RELEASE.replace("Condensed Consolidated Statements of Income", "Results").encode())
    assert any("no financial statement found" in w for w in f.warnings)
