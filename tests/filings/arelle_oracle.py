"""Arelle, the reference XBRL processor, as an oracle for finstream's facts (test-only).

The real us-gaap/dei/ifrs taxonomies cannot be fetched offline, so each filing is loaded from a
scratch copy whose schemaRef points at a generated stand-in schema: every concept the file uses is
declared (numeric ones as decimals, text ones as strings, with the period type its contexts give),
every axis as an explicit or typed dimension. That is enough for Arelle to apply contexts, units,
``scale``, ``sign`` and the ixt transformation registry exactly as it does on EDGAR; it cannot
judge what depends on the real taxonomy (labels, calculation weights, data types beyond number).

Results are cached as JSON under .pytest_cache/finstream-arelle, keyed by the file's SHA-256 and
Arelle's version, so a test session runs Arelle at most once per file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from lxml import etree

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".pytest_cache" / "finstream-arelle"
XBRLI = "http://www.xbrl.org/2003/instance"
XBRLDI = "http://xbrl.org/2006/xbrldi"
IX = ("http://www.xbrl.org/2013/inlineXBRL", "http://www.xbrl.org/2008/inlineXBRL")
LINK = "http://www.xbrl.org/2003/linkbase"
XLINK = "http://www.w3.org/1999/xlink"


def _qname(text: str, nsmap: dict) -> tuple[str, str] | None:
    prefix, _, local = text.strip().rpartition(":")
    ns = nsmap.get(prefix or None)
    return (ns, local) if ns and local else None


def _collect(root: etree._Element, inline: bool) -> dict[str, dict[str, dict]]:
    """namespace -> local name -> {"kind": numeric|string|dimension|typed|member, ...}."""
    decls: dict[str, dict[str, dict]] = defaultdict(dict)
    ctx_type: dict[str, str] = {}
    for ctx in root.iter(f"{{{XBRLI}}}context"):
        ctx_type[ctx.get("id", "")] = "instant" if ctx.find(f".//{{{XBRLI}}}instant") is not None else "duration"
        for m in ctx.iter(f"{{{XBRLDI}}}explicitMember", f"{{{XBRLDI}}}typedMember"):
            dim = _qname(m.get("dimension", ""), m.nsmap)
            if dim is None:
                continue
            if m.tag.endswith("explicitMember"):
                decls[dim[0]].setdefault(dim[1], {"kind": "dimension"})
                mem = _qname(m.text or "", m.nsmap)
                if mem:
                    decls[mem[0]].setdefault(mem[1], {"kind": "member"})
            else:
                child = next((c for c in m if isinstance(c.tag, str)), None)
                if child is None:
                    continue
                q = etree.QName(child)
                decls[q.namespace][q.localname] = {"kind": "domain"}
                decls[dim[0]][dim[1]] = {"kind": "typed", "domain": (q.namespace, q.localname)}

    def add(ns: str, local: str, numeric: bool, ctx: str) -> None:
        if local in decls[ns] and decls[ns][local]["kind"] in ("dimension", "typed", "member", "domain"):
            return
        entry = decls[ns].setdefault(local, {"kind": "numeric" if numeric else "string", "period": ctx_type.get(ctx, "duration")})
        if numeric:
            entry["kind"] = "numeric"

    if inline:
        for ns in IX:
            for tag, numeric in (("nonFraction", True), ("nonNumeric", False), ("fraction", True)):
                for el in root.iter(f"{{{ns}}}{tag}"):
                    q = _qname(el.get("name", ""), el.nsmap)
                    if q:
                        add(q[0], q[1], numeric, el.get("contextRef", ""))
    else:
        skip = {XBRLI, LINK, XBRLDI}
        for el in root:
            if not isinstance(el.tag, str):
                continue
            q = etree.QName(el)
            if q.namespace in skip or not el.get("contextRef"):
                continue
            add(q.namespace, q.localname, el.get("unitRef") is not None, el.get("contextRef", ""))
    return decls


def _schema(ns: str, names: dict[str, dict], index: dict[str, str]) -> str:
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xbrli="{XBRLI}" '
        'xmlns:xbrldt="http://xbrl.org/2005/xbrldt" xmlns:link="http://www.xbrl.org/2003/linkbase" '
        'xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'xmlns:t="{ns}" targetNamespace="{ns}" elementFormDefault="qualified">',
        '<xs:import namespace="http://www.xbrl.org/2003/instance" '
        'schemaLocation="http://www.xbrl.org/2003/xbrl-instance-2003-12-31.xsd"/>',
        '<xs:import namespace="http://xbrl.org/2005/xbrldt" schemaLocation="http://www.xbrl.org/2005/xbrldt-2005.xsd"/>',
    ]
    for other, fname in index.items():
        if other != ns:
            out.append(f'<xs:import namespace="{other}" schemaLocation="{fname}"/>')
    for local, d in sorted(names.items()):
        kind = d["kind"]
        if kind == "domain":
            out.append(f'<xs:element name="{local}" id="{_id(ns, local)}" type="xs:string"/>')
        elif kind in ("dimension", "typed"):
            typed = ""
            if kind == "typed":
                dns, dlocal = d["domain"]
                typed = f' xbrldt:typedDomainRef="{index[dns]}#{_id(dns, dlocal)}"'
            out.append(
                f'<xs:element name="{local}" id="{_id(ns, local)}" abstract="true" nillable="true" '
                f'type="xbrli:stringItemType" substitutionGroup="xbrldt:dimensionItem" '
                f'xbrli:periodType="duration"{typed}/>'
            )
        else:
            typ = "xbrli:decimalItemType" if kind == "numeric" else "xbrli:stringItemType"
            abstract = ' abstract="true"' if kind == "member" else ""
            period = d.get("period", "duration")
            out.append(
                f'<xs:element name="{local}" id="{_id(ns, local)}" type="{typ}" substitutionGroup="xbrli:item" '
                f'nillable="true" xbrli:periodType="{period}"{abstract}/>'
            )
    out.append("</xs:schema>")
    return "\n".join(out)


def _id(ns: str, local: str) -> str:
    return "c" + hashlib.md5(f"{ns}#{local}".encode()).hexdigest()[:16]


def _stage(path: Path, work: Path) -> Path:
    """A scratch copy of the filing whose schemaRef points at generated stand-in schemas."""
    data = path.read_bytes().lstrip()  # Spire's iXBRL starts with a newline before <?xml: Arelle refuses it
    inline = b"inlineXBRL" in data[:200_000] or b"ix:header" in data[:2_000_000]
    root = etree.fromstring(data, etree.XMLParser(recover=True, huge_tree=True, resolve_entities=False))
    decls = _collect(root, inline)
    index = {ns: f"standin{i}.xsd" for i, ns in enumerate(sorted(decls))}
    for ns, fname in index.items():
        (work / fname).write_text(_schema(ns, decls[ns], index), encoding="utf-8")
    main = ['<?xml version="1.0" encoding="utf-8"?>',
            '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:finstream:standin">']
    main += [f'<xs:import namespace="{ns}" schemaLocation="{f}"/>' for ns, f in index.items()]
    main.append("</xs:schema>")
    (work / "standin.xsd").write_text("\n".join(main), encoding="utf-8")
    for ref in root.iter(f"{{{LINK}}}schemaRef"):
        ref.set(f"{{{XLINK}}}href", "standin.xsd")
    target = work / (path.stem + (".htm" if inline else ".xml"))
    target.write_bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))
    return target


def _run_arelle(path: Path) -> dict:
    from arelle import Cntlr

    work = Path(tempfile.mkdtemp(prefix="finstream-arelle-"))
    try:
        staged = _stage(path, work)
        cntlr = Cntlr.Cntlr(logFileName="logToBuffer")
        cntlr.webCache.workOffline = True
        t0 = time.perf_counter()
        model = cntlr.modelManager.load(str(staged))
        facts = []
        for f in model.factsInInstance:
            if not f.isNumeric or f.isNil:
                continue
            ctx = f.context
            if ctx is None:
                continue
            if ctx.isInstantPeriod:
                start, end = None, (ctx.instantDatetime - timedelta(days=1)).date().isoformat()
            else:
                start = ctx.startDatetime.date().isoformat()
                end = (ctx.endDatetime - timedelta(days=1)).date().isoformat()
            dims = {}
            for dq, dv in ctx.qnameDims.items():
                key = f"{dq.prefix}:{dq.localName}"
                if dv.isExplicit:
                    mq = dv.memberQname
                    dims[key] = f"{mq.prefix}:{mq.localName}" if mq is not None else ""
                else:
                    dims[key] = (dv.typedMember.stringValue if dv.typedMember is not None else "").strip()
            unit = ""
            if f.unit is not None:
                num, den = f.unit.measures
                unit = "*".join(m.localName for m in num)
                if den:
                    unit += "/" + "*".join(m.localName for m in den)
            value = f.xValue
            facts.append({
                "concept": f"{f.qname.prefix}:{f.qname.localName}",
                "start": start, "end": end, "dims": dims, "unit": unit,
                "value": None if value is None or isinstance(value, str) else str(value),
                "raw": f.value if isinstance(value, str) or value is None else None,
                "decimals": f.decimals, "format": str(f.format) if getattr(f, "format", None) else None,
            })
        seconds = time.perf_counter() - t0
        errors = [
            r.getMessage()[:300] for r in getattr(cntlr.logHandler, "logRecordBuffer", [])
            if r.levelname in ("ERROR", "CRITICAL")
        ]
        cntlr.modelManager.close()
        cntlr.close()
        return {"facts": facts, "seconds": seconds, "errors": errors[:50]}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def arelle_facts(path: Path) -> dict:
    """{"facts": [...], "seconds": Arelle's load time, "errors": [...]}, cached per file and version."""
    import arelle.Version

    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:24]
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / f"{digest}-{re.sub(r'[^0-9A-Za-z.]', '', arelle.Version.__version__)}.json"
    if cached.exists():
        return json.loads(cached.read_text())
    result = _run_arelle(path)
    # Written whole, then renamed: a parallel test process never reads half a file.
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(result))
    partial.replace(cached)
    return result
