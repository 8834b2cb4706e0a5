"""AlpacaEval 2.0 raw and length-controlled win rates from the published judge annotations, against the
published leaderboard (`../shared/data/alpaca_eval_annotations/leaderboard_dev.csv`).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_alpaca_lc.py [--bootstrap 200] [--markdown]

Held-out check (models whose published numbers were never looked at while choosing the LC settings): pass
more annotation files and the upstream leaderboard CSV (its first, unnamed column is the results folder);
`--dev` names the CSV of the models the settings were chosen on, and the summary is printed for those and
for the others separately:

    .venv/bin/python benchmarks/bench_alpaca_lc.py --annotations DIR/*.annotations.json.gz \
        --leaderboard DIR/weighted_alpaca_eval_gpt4_turbo_leaderboard.csv --dev ../shared/data/alpaca_eval_annotations/leaderboard_dev.csv

Prints per model: published and our raw / LC win rates, the differences, and the summary (mean and max
absolute LC error, Spearman rank correlation from scipy). Measures, never gates.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
from scipy.stats import spearmanr

from alignsmith.evaluate.lc_glm import LCSettings
from alignsmith.evaluate.winrates import compute_winrates

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "alpaca_eval_annotations"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--annotations", nargs="+", default=[str(DATA / "annotations_compact.jsonl.gz")])
    parser.add_argument("--leaderboard", default=str(DATA / "leaderboard_dev.csv"),
                        help="published rows: leaderboard_dev.csv (column `folder`) or upstream's CSV (folder "
                             "in the first, unnamed column); models without annotations are skipped")
    parser.add_argument("--dev", default=None, help="CSV (column `folder`) of the models the settings were "
                                                    "chosen on; summaries are then split dev / held out")
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--length-reference", help="the baseline's concise/verbose judgements (df_gamed.csv or an "
                                                   "alpaca_eval checkout), as `winrates --length-reference`")
    parser.add_argument("--row-order", action="store_true", help="difficulty by row position, as AlpacaEval")
    parser.add_argument("--difficulty", help="fixed instruction-difficulty CSV, as `winrates --difficulty`")
    parser.add_argument("--save-difficulty", help="write the difficulties used, as `winrates --save-difficulty`")
    args = parser.parse_args()
    start = time.perf_counter()
    out = compute_winrates(args.annotations, settings=LCSettings(n_boot=args.bootstrap,
                                                                 row_order_difficulty=args.row_order),
                           length_reference=args.length_reference, difficulty=args.difficulty,
                           save_difficulty=args.save_difficulty)
    seconds = time.perf_counter() - start
    ours = out["table"].set_index("generator")
    published = pd.read_csv(args.leaderboard)
    published = published.set_index("folder" if "folder" in published else published.columns[0])
    dev = set(pd.read_csv(args.dev)["folder"]) if args.dev else None
    rows = []
    for folder, pub in published.iterrows():
        if folder not in ours.index:
            continue
        mine = ours.loc[folder]
        rows.append({"model": folder, "set": "dev" if dev is None or folder in dev else "held out",
                     "n": int(mine["n"]), "published_wr": pub["win_rate"],
                     "ours_wr": mine["win_rate"], "published_lc": pub["length_controlled_winrate"],
                     "ours_lc": mine["lc_win_rate"], "lc_ci": f"[{mine['lc_ci_low']:.1f}, {mine['lc_ci_high']:.1f}]",
                     "lc_diff": mine["lc_win_rate"] - pub["length_controlled_winrate"]})
    table = pd.DataFrame(rows)
    if args.markdown:
        print("| model | set | n | published WR | ours WR | published LC | ours LC | ours LC 95% CI | LC diff |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['model']} | {r['set']} | {r['n']} | {r['published_wr']:.2f} | {r['ours_wr']:.2f} | "
                  f"{r['published_lc']:.2f} | {r['ours_lc']:.2f} | {r['lc_ci']} | {r['lc_diff']:+.2f} |")
    else:
        print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"\nmodels fitted: {len(ours)} (all in the files); compared: {len(table)}")
    for name, part in table.groupby("set", sort=True):
        raw_err = (part["ours_wr"] - part["published_wr"]).abs()
        lc_err = part["lc_diff"].abs()
        rho = spearmanr(part["ours_lc"], part["published_lc"]).statistic if len(part) > 2 else float("nan")
        print(f"{name} ({len(part)} models): raw win rate max |ours - published| = {raw_err.max():.2e} points; "
              f"LC mean |diff| = {lc_err.mean():.2f}, max = {lc_err.max():.2f} points, Spearman rho = {rho:.4f}")
    print(f"seconds (read + fit + {args.bootstrap} bootstrap rounds per model): {seconds:.1f}")


if __name__ == "__main__":
    main()
