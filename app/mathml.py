"""LaTeX to MathML on the server, so formulas render offline with no JS library."""

from __future__ import annotations

from functools import lru_cache

from latex2mathml.converter import convert
from markupsafe import Markup


@lru_cache(maxsize=1024)
def tex(latex: str, display: bool = False) -> Markup:
    """MathML for a LaTeX formula (display=True for a block formula)."""
    return Markup(convert(latex, display="block" if display else "inline"))


def num(value: float) -> str:
    """A number as LaTeX: integers bare, others to at most 3 decimals."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.3f}".rstrip("0")
