"""The inline-XBRL transformation registry (ixt TR1-TR5 and SEC's ixt-sec) for the formats filers use.

An ``ix:nonFraction`` shows a number the way the page prints it ("1,234.5", "—", "two") and its
``format`` names the rule that turns the text into the XBRL value; ``scale`` and ``sign`` apply
after it. Dates on the cover ("1/31" with ``ixt:date-month-day``) go through the same registry.
Names are matched on the local part, with or without hyphens, since the registries renamed them
(``numdotdecimal`` in TR1/2, ``num-dot-decimal`` from TR3 on).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from finstream.filings.periods import _MONTHS


class TransformError(ValueError):
    """The text does not fit the format it is tagged with."""


def _clean(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())


_DOT_DECIMAL = re.compile(r"^\d{1,3}(?:[, ]?\d{3})*(?:\.\d*)?$|^\.\d+$|^\d+(?:\.\d*)?$")
_COMMA_DECIMAL = re.compile(r"^\d{1,3}(?:[. ]?\d{3})*(?:,\d*)?$|^,\d+$|^\d+(?:,\d*)?$")
_APOS = "'`´’′"
_ZERO_DASH = {"-", "—", "–", "−", "‒", "﹣", "－"}

_UNITS = {
    "zero": 0, "no": 0, "none": 0, "nil": 0, "a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "three": 3,
    "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
    "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_FRACTIONS = {"half": Decimal("0.5"), "quarter": Decimal("0.25")}


def num_words(text: str) -> str:
    """English number words to digits: "two" -> 2, "one hundred twenty-five" -> 125, "no" -> 0."""
    words = [w for w in re.split(r"[\s\-]+", _clean(text).lower().replace(",", " ")) if w and w != "and"]
    if not words:
        raise TransformError(f"no number words in {text!r}")
    total, current = Decimal(0), Decimal(0)
    for w in words:
        if w in _UNITS:
            current += _UNITS[w]
        elif w == "hundred":
            current = (current or Decimal(1)) * 100
        elif w in _SCALES:
            total += (current or Decimal(1)) * _SCALES[w]
            current = Decimal(0)
        elif w.rstrip("s") in _FRACTIONS:
            current = (current or 1) * _FRACTIONS[w.rstrip("s")]
        elif re.fullmatch(r"\d+(\.\d+)?", w):
            current += Decimal(w)
        else:
            raise TransformError(f"{w!r} is not a number word")
    return _canonical(total + current)


def _canonical(d: Decimal) -> str:
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _num_dot_decimal(text: str) -> str:
    t = _clean(text).strip(_APOS)
    for a in _APOS:
        t = t.replace(a, "")
    if not _DOT_DECIMAL.match(t):
        raise TransformError(f"{text!r} is not a number with a decimal point")
    return t.replace(",", "").replace(" ", "")


def _num_comma_decimal(text: str) -> str:
    t = _clean(text)
    for a in _APOS:
        t = t.replace(a, "")
    if not _COMMA_DECIMAL.match(t):
        raise TransformError(f"{text!r} is not a number with a decimal comma")
    return t.replace(".", "").replace(" ", "").replace(",", ".")


def _zero_dash(text: str) -> str:
    if _clean(text) not in _ZERO_DASH:
        raise TransformError(f"{text!r} is not a dash")
    return "0"


def _num_unit_decimal(text: str) -> str:
    """"5 dollars 50 cents" -> 5.50: the first number is the major unit, the last the minor."""
    groups = re.findall(r"\d[\d,. ]*", _clean(text))
    if len(groups) < 2:
        raise TransformError(f"{text!r} has no major and minor unit")
    major = re.sub(r"[,. ]", "", groups[0])
    minor = re.sub(r"[,. ]", "", groups[-1]).zfill(2)
    return f"{major}.{minor}"


_NUMERIC = {
    "numdotdecimal": _num_dot_decimal,
    "numcommadot": _num_dot_decimal,  # TR1: 1,234.56
    "numspacedot": _num_dot_decimal,
    "numdotdecimalapos": _num_dot_decimal,
    "numcommadecimal": _num_comma_decimal,
    "numdotcomma": _num_comma_decimal,  # TR1: 1.234,56
    "numspacecomma": _num_comma_decimal,
    "numcommadecimalapos": _num_comma_decimal,
    "numcomma": lambda t: _num_comma_decimal(t),
    "zerodash": _zero_dash,
    "numdash": _zero_dash,
    "fixedzero": lambda t: "0",
    "numunitdecimal": _num_unit_decimal,
    "numwordsen": num_words,  # ixt-sec
    "numword": num_words,
    "numworden": num_words,
}


def _key(fmt: str) -> str:
    return fmt.rsplit(":", 1)[-1].replace("-", "").lower()


def is_known_numeric(fmt: str | None) -> bool:
    return not fmt or _key(fmt) in _NUMERIC


def numeric(text: str, fmt: str | None) -> Decimal:
    """The value of an ix:nonFraction's text under its format (before scale and sign)."""
    if not fmt:
        t = _clean(text).replace(",", "")
        if t in _ZERO_DASH:
            return Decimal(0)
        try:
            return Decimal(t)
        except InvalidOperation:
            raise TransformError(f"{text!r} is not a number") from None
    rule = _NUMERIC.get(_key(fmt))
    if rule is None:
        raise TransformError(f"unknown transformation {fmt!r}")
    try:
        return Decimal(rule(text))
    except InvalidOperation:
        raise TransformError(f"{text!r} does not fit {fmt!r}") from None


def _month(name: str) -> int:
    m = _MONTHS.get(name.lower().rstrip("."))
    if m is None:
        raise TransformError(f"{name!r} is not a month")
    return m


def _md(month: int, day: int) -> str:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise TransformError(f"no such day {month}/{day}")
    return f"--{month:02d}-{day:02d}"


def _ymd(year: int, month: int, day: int) -> str:
    from datetime import date

    if year < 100:
        year += 2000
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise TransformError(f"no such date {year}-{month}-{day}") from None


def _nums(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]+\.?", text)


def _date_month_day(t: str) -> str:
    n = _nums(t)
    return _md(n[0], n[1])


def _date_day_month(t: str) -> str:
    n = _nums(t)
    return _md(n[1], n[0])


def _date_monthname_day(t: str) -> str:
    return _md(_month(_words(t)[0]), _nums(t)[0])


def _date_day_monthname(t: str) -> str:
    return _md(_month(_words(t)[0]), _nums(t)[0])


def _date_month_day_year(t: str) -> str:
    n = _nums(t)
    return _ymd(n[2], n[0], n[1])


def _date_day_month_year(t: str) -> str:
    n = _nums(t)
    return _ymd(n[2], n[1], n[0])


def _date_year_month_day(t: str) -> str:
    n = _nums(t)
    return _ymd(n[0], n[1], n[2])


def _date_monthname_day_year(t: str) -> str:
    n = _nums(t)
    return _ymd(n[-1], _month(_words(t)[0]), n[0])


def _date_day_monthname_year(t: str) -> str:
    n = _nums(t)
    return _ymd(n[-1], _month(_words(t)[0]), n[0])


def _date_monthname_year(t: str) -> str:
    n = _nums(t)
    year = n[-1] + (2000 if n[-1] < 100 else 0)
    return f"{year:04d}-{_month(_words(t)[0]):02d}"


_DATES = {
    "datemonthday": _date_month_day, "datemonthdayslash": _date_month_day,
    "datedaymonth": _date_day_month, "datedaymonthslash": _date_day_month,
    "datemonthnamedayen": _date_monthname_day, "datemonthdayen": _date_monthname_day,
    "datedaymonthnameen": _date_day_monthname, "datedaymonthen": _date_day_monthname,
    "datemonthdayyear": _date_month_day_year, "dateslashus": _date_month_day_year, "datedotus": _date_month_day_year,
    "datedaymonthyear": _date_day_month_year, "dateslasheu": _date_day_month_year, "datedoteu": _date_day_month_year,
    "dateyearmonthday": _date_year_month_day,
    "datemonthnamedayyearen": _date_monthname_day_year, "datelongus": _date_monthname_day_year,
    "dateshortus": _date_monthname_day_year, "datemonthdayyearen": _date_monthname_day_year,
    "datedaymonthnameyearen": _date_day_monthname_year, "datelonguk": _date_day_monthname_year,
    "dateshortuk": _date_day_monthname_year, "datedaymonthyearen": _date_day_monthname_year,
    "datemonthnameyearen": _date_monthname_year, "datemonthyearen": _date_monthname_year,
}
_BOOLEANS = {"fixedtrue": "true", "fixedfalse": "false", "booleantrue": "true", "booleanfalse": "false"}


def text_value(text: str, fmt: str | None) -> str:
    """The value of an ix:nonNumeric under its format (dates to ISO forms, booleans); the text
    itself, whitespace collapsed, for formats that do not change it or that this registry lacks."""
    t = _clean(text)
    if not fmt:
        return t
    key = _key(fmt)
    if key in _BOOLEANS:
        return _BOOLEANS[key]
    if key in ("fixedempty", "nocontent"):
        return ""
    rule = _DATES.get(key)
    if rule is None:
        return t
    try:
        return rule(t)
    except (IndexError, TransformError):
        return t
