"""IFEval-compatible instruction verifiers, shared by curation (scorer, filter) and evaluation.

    from alignsmith.curate.verifiers import verify, VERIFIERS, VerifierError
    verify(["punctuation:no_comma"], [{}], "no commas here")  # -> [True]

Each of IFEval's 25 instruction types is a `Verifier` registered in `VERIFIERS` under its instruction
id; the family modules below register themselves on import. The curation parts built on them (the
"verifiers" scorer, the "constraints" filter, in curation.py) are named in the filter and scorer tables and
load on first use, so importing the verifiers stays light (no filters, no dedup, no numpy).
"""
from . import case, content, formats, keywords, language, length, startend  # noqa: F401  (registration)
from .api import MODES, constraint_report, loose_variants, verify
from .base import VERIFIERS, Verifier, VerifierError, build_verifier
from .text import PunktDataMissingError

__all__ = ["verify", "VERIFIERS", "VerifierError", "Verifier", "build_verifier", "constraint_report",
           "loose_variants", "MODES", "PunktDataMissingError"]
