"""XML and HTML parsers that never fetch, expand entities or build huge trees."""

from __future__ import annotations

import re

from lxml import etree
from lxml import html as lxml_html

from finstream.filings.model import FilingError

# An internal DTD that declares entities is how "billion laughs" and external-entity attacks
# start; filings never need one, so such a file is refused before any parser sees it.
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)


def xml_parser(recover: bool = False) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, dtd_validation=False,
        remove_comments=True, remove_pis=True, recover=recover,
    )


def parse_xml(filename: str, data: bytes, *, recover: bool = False) -> etree._Element:
    if _ENTITY_DECL.search(data[:65536]) or _ENTITY_DECL.search(data):
        raise FilingError(filename, "XML declares entities (a possible entity-expansion attack); refused")
    try:
        root = etree.fromstring(data, parser=xml_parser(recover))
    except etree.XMLSyntaxError as exc:
        raise FilingError(filename, f"malformed XML ({exc.msg})") from None
    if root is None:
        raise FilingError(filename, "empty XML document")
    return root


def parse_html(filename: str, data: bytes) -> etree._Element:
    if _ENTITY_DECL.search(data[:65536]):
        raise FilingError(filename, "HTML declares entities (a possible entity-expansion attack); refused")
    parser = lxml_html.HTMLParser(no_network=True, huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        root = lxml_html.fromstring(data, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise FilingError(filename, f"unreadable HTML ({exc})") from None
    return root
