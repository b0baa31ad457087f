"""Checking the numbers an answer shows against the filings (pure: no I/O).

- ``facts``: fact ids and the FactIndex (the filings' facts plus this answer's tool results)
- ``numbers`` / ``periods``: numbers and periods as people write them
- ``check``: one number -> verified / derived / unverified, with the reason and the facts
- ``derive``: growth, compound growth, margins, sums, differences, changes
- ``text``: the numbers of an answer's text, with spans, periods and line items
- ``artifacts``: charts, tables and metric tiles (values filled from fact ids, then checked)
- ``model``: NumberCheck and FactRef, the shapes the protocol carries
"""
