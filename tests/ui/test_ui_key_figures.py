"""The Documents page's key figures: headline metrics by period, with their sources."""

from finstream.filings.ingest import ingest_path
from finstream.filings.model import Filing
from finstream.ui.documents import key_figures_frame
from tests.support.filings import FILINGS_DIR


def test_key_figures_of_the_apple_10k_carry_values_and_sources():
    frame = key_figures_frame(ingest_path(FILINGS_DIR / "aapl-10-k-2024-11-01.html"))
    row = frame[(frame.Metric == "Revenue") & (frame.Period == "FY2024")].iloc[0]
    assert row.Value == "$391.0B"
    assert "RevenueFromContractWithCustomerExcludingAssessedTax" in row.Source
    net = frame[(frame.Metric == "Net income") & (frame.Period == "FY2024")].iloc[0]
    assert net.Value == "$93.7B"


def test_a_file_without_figures_gives_an_empty_frame():
    assert key_figures_frame(Filing(filename="notes.txt", format="text")).empty
