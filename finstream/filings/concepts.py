"""Common names analysts use -> the XBRL concepts and printed line items that carry them.

Concepts are tried in order per period (a company may switch concepts over the years: Apple used
``SalesRevenueNet``, then ``Revenues``, then ``RevenueFromContractWithCustomerExcludingAssessedTax``).
Label patterns (regular expressions, case-insensitive, matched against the whole line item) serve
tables without XBRL tags: press releases, PDFs, CSV and Excel exports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    concepts: tuple[str, ...]
    patterns: tuple[str, ...]
    instant: bool = False  # balance-sheet items are measured at a date
    unit: str | None = None  # the unit the metric must have, when it is not plain money


METRICS: tuple[Metric, ...] = (
    Metric(
        "revenue",
        "Revenue",
        (
            # Totals first: a bank's revenue net of interest expense, then total revenues, which
            # beat revenue from contracts with customers (Walmart: 161,632 total vs 160,280 net sales).
            "us-gaap:RevenuesNetOfInterestExpense",
            "us-gaap:Revenues",
            "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax",
            "us-gaap:SalesRevenueNet",
            "us-gaap:RevenueFromContractWithCustomerIncludingAssessedTax",
            "us-gaap:SalesRevenueGoodsNet",
            "us-gaap:RegulatedAndUnregulatedOperatingRevenue",
            "ifrs-full:Revenue",
            "ifrs-full:RevenueFromContractsWithCustomers",
        ),
        (r"(total )?(net )?revenues?( net)?", r"(total )?net sales", r"sales,? net.*", r"revenues?,? net", r"net revenues?"),
    ),
    Metric(
        "gross profit",
        "Gross profit",
        ("us-gaap:GrossProfit", "ifrs-full:GrossProfit"),
        (r"gross (profit|margin)",),
    ),
    Metric(
        "operating income",
        "Operating income",
        ("us-gaap:OperatingIncomeLoss", "ifrs-full:ProfitLossFromOperatingActivities"),
        (r"(total )?operating income( \(loss\))?", r"income \(loss\) from operations", r"(income|loss) from operations", r"operating (loss|profit)",
         r"(profit|income) from operating activities", r"profit from operations"),
    ),
    Metric(
        "net income",
        "Net income",
        (
            "us-gaap:NetIncomeLoss",
            "ifrs-full:ProfitLossAttributableToOwnersOfParent",
            "us-gaap:ProfitLoss",
            "ifrs-full:ProfitLoss",
            "us-gaap:NetIncomeLossAvailableToCommonStockholdersBasic",
        ),
        (
            # The parent's share first: "attributable to Intel/3M/Walmart", never to noncontrolling interests.
            r"(consolidated )?net (income|loss|earnings)( \((income|loss|earnings)\))? attributable to "
            r"(?!(the )?non-?controlling|minority).*",
            r"(consolidated )?net (income|loss|earnings)( \((income|loss|earnings)\))?",
            r"(consolidated )?net (income|loss|earnings)( \((income|loss|earnings)\))? including non-?controlling.*",
            # IFRS wording: "Profit for the year attributable to owners of the parent".
            r"(net )?profit( \(loss\))?( for the (year|period))? attributable to (the )?(owners|equity holders|"
            r"shareholders|stockholders) of the (parent|company)",
            r"(net )?profit( \(loss\))? for the (year|period)",
        ),
    ),
    Metric(
        "eps",
        "Diluted EPS",
        (
            "us-gaap:EarningsPerShareDiluted", "us-gaap:EarningsPerShareBasicAndDiluted", "ifrs-full:DilutedEarningsLossPerShare",
            "us-gaap:EarningsPerShareBasic", "ifrs-full:BasicEarningsLossPerShare", "ifrs-full:BasicAndDilutedEarningsLossPerShare",
        ),
        (r".*diluted.*(per (common |ordinary )?share|eps).*", r"earnings per share[:\s\-]*diluted",
         r".*per (common |ordinary )?share.*diluted.*", r"diluted"),
        unit="USD/shares",
    ),
    Metric(
        "basic eps",
        "Basic EPS",
        ("us-gaap:EarningsPerShareBasic", "us-gaap:EarningsPerShareBasicAndDiluted", "ifrs-full:BasicEarningsLossPerShare",
         "ifrs-full:BasicAndDilutedEarningsLossPerShare"),
        (r".*basic.*(per (common |ordinary )?share|eps).*", r"earnings per share[:\s\-]*basic",
         r".*per (common |ordinary )?share.*basic.*", r"basic"),
        unit="USD/shares",
    ),
    Metric(
        "total assets",
        "Total assets",
        ("us-gaap:Assets", "ifrs-full:Assets"),
        (r"total assets",),
        instant=True,
    ),
    Metric(
        "cash",
        "Cash and cash equivalents",
        ("us-gaap:CashAndCashEquivalentsAtCarryingValue", "ifrs-full:CashAndCashEquivalents", "us-gaap:Cash"),
        (r"cash and cash equivalents", r"cash and equivalents", r"cash"),
        instant=True,
    ),
    Metric(
        "cash including restricted cash",
        "Cash, cash equivalents and restricted cash",
        ("us-gaap:CashCashEquivalentsRestrictedCashAndRestrictedCashEquivalents",),
        (r"cash,? cash equivalents,? and restricted cash( and restricted cash equivalents)?",),
        instant=True,
    ),
    Metric(
        "total liabilities",
        "Total liabilities",
        ("us-gaap:Liabilities", "ifrs-full:Liabilities"),
        (r"total liabilities",),
        instant=True,
    ),
    Metric(
        "equity",
        "Shareholders' equity",
        ("us-gaap:StockholdersEquity", "ifrs-full:EquityAttributableToOwnersOfParent",
         "us-gaap:StockholdersEquityIncludingPortionAttributableToNoncontrollingInterest", "ifrs-full:Equity"),
        (r"total (share|stock)holders[’'] equity",),
        instant=True,
    ),
    Metric(
        "cost of revenue",
        "Cost of revenue",
        ("us-gaap:CostOfGoodsAndServicesSold", "us-gaap:CostOfRevenue", "us-gaap:CostOfGoodsSold", "ifrs-full:CostOfSales"),
        (r"(total )?cost of (sales|revenues?)( .*)?",),
    ),
    Metric(
        "operating expenses",
        "Operating expenses",
        ("us-gaap:OperatingExpenses", "us-gaap:CostsAndExpenses"),
        (r"total operating expenses", r"total costs and expenses"),
    ),
    Metric(
        "research and development",
        "Research and development",
        ("us-gaap:ResearchAndDevelopmentExpense", "ifrs-full:ResearchAndDevelopmentExpense"),
        (r"research and development",),
    ),
    Metric(
        "operating cash flow",
        "Operating cash flow",
        ("us-gaap:NetCashProvidedByUsedInOperatingActivities", "ifrs-full:CashFlowsFromUsedInOperatingActivities"),
        (r"(net )?cash (generated|provided) by( \(used in\))? operating activities",),
    ),
    Metric(
        "long-term debt",
        "Long-term debt",
        ("us-gaap:LongTermDebtNoncurrent", "us-gaap:LongTermDebt", "ifrs-full:NoncurrentPortionOfNoncurrentBorrowings"),
        (r"(total )?long-term debt",),
        instant=True,
    ),
)

ALIASES = {
    "sales": "revenue", "net sales": "revenue", "revenues": "revenue", "total revenue": "revenue",
    "gross margin": "gross profit", "operating profit": "operating income", "income from operations": "operating income",
    "operating loss": "operating income", "net loss": "net income", "profit": "net income", "earnings": "net income",
    "net earnings": "net income", "net income attributable to owners": "net income",
    "net income attributable to parent": "net income", "profit attributable to owners": "net income",
    "profit or loss": "net income", "restricted cash": "cash including restricted cash", "diluted eps": "eps", "earnings per share": "eps", "diluted earnings per share": "eps",
    "assets": "total assets", "cash and cash equivalents": "cash", "liabilities": "total liabilities",
    "shareholders equity": "equity", "stockholders equity": "equity", "cost of sales": "cost of revenue",
    "r&d": "research and development", "cash from operations": "operating cash flow", "debt": "long-term debt",
}

_BY_NAME = {m.name: m for m in METRICS}


def find_metric(name: str) -> Metric | None:
    """The Metric for a common name ("Revenue", "net loss", "EPS"), or None."""
    key = re.sub(r"[^a-z0-9& -]", "", name.lower()).strip()
    key = ALIASES.get(key, key)
    return _BY_NAME.get(key)


def label_matches(metric: Metric, label: str) -> bool:
    text = re.sub(r"\s+", " ", label.lower().replace("’", "'")).strip(" :")
    return any(re.fullmatch(p, text) for p in metric.patterns)


def common_names() -> list[str]:
    return [m.name for m in METRICS]
