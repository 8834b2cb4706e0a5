"""The knobs of the length-controlled win-rate fit (`lc_glm`), apart from the numpy/pandas code that fits.

`alignsmith winrates --help` shows these fields' help, and building the parser must stay light, so the
dataclass lives here; `evaluate.lc_glm` imports it (and `from .lc_glm import LCSettings` keeps working).
"""
from __future__ import annotations

from dataclasses import dataclass

from alignsmith.curate.core.config import option


@dataclass(frozen=True)
class LCSettings:
    """Knobs of the length-controlled fit (defaults chosen on AlpacaEval's development models)."""

    difficulty_c: float = option("inverse L2 strength of the joint fit that gives each instruction's difficulty "
                                 "(larger: weaker penalty)", 10.0)
    model_c: float = option("inverse L2 strength of each model's own fit (larger: weaker penalty)", 1.0)
    reg_lambda: float = option("total weight of the length-variant rows (X_concise / X_verbose) relative to the "
                               "model's own rows in each fit; 0 turns that regularisation off", 0.5)
    reference_lambda: float = option("with a length reference (the baseline's own concise/verbose variants): "
                                     "total weight of its rows per row of the model, split over the variants "
                                     "(AlpacaEval's 0.2)", 0.2)
    reference_model_c: float = option("with a length reference: inverse L2 strength of each model's fit "
                                      "(weak, like AlpacaEval's cross-validated L1)", 100.0)
    row_order_difficulty: bool = option("look each row's instruction difficulty up by its position among the "
                                        "model's rows in its file, as AlpacaEval does; this differs from the "
                                        "instruction's own difficulty only for models with missing rows, and "
                                        "reproduces the published numbers of those", False)
    n_boot: int = option("bootstrap rounds over the model's items for the LC interval; 0: no interval", 200)
    seed: int = option("seed of the bootstrap resampling", 0)
    min_items: int = option("models judged on fewer items than this are excluded (and recorded in the notes)",
                            10)
