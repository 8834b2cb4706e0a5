"""Bradley-Terry: recovers simulated strengths, intervals cover the truth, win-rate matrix."""
from __future__ import annotations

import numpy as np
import pytest

from alignsmith.evaluate.bradley_terry import bradley_terry, fit_strengths, win_rate_matrix


def _simulate(strengths, games_per_pair, rng, tie_share=0.1):
    names = [f"m{i}" for i in range(len(strengths))]
    comps = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            p = 1 / (1 + np.exp(-(strengths[i] - strengths[j])))
            for _ in range(games_per_pair):
                # A tie is half a win for each side: E[outcome] stays p, so the BT model still holds.
                if rng.random() < tie_share:
                    comps.append((names[i], names[j], 0.5))
                else:
                    comps.append((names[i], names[j], float(rng.random() < p)))
    return names, comps


def test_recovers_order_and_truth_inside_intervals():
    truth = np.array([-1.0, -0.2, 0.3, 0.9])
    truth = truth - truth.mean()
    covered, total = 0, 0
    for repeat in range(15):
        rng = np.random.default_rng(repeat)
        names, comps = _simulate(truth, 60, rng)
        r = bradley_terry(comps, n_boot=100, seed=repeat)
        assert r.players == names
        est = dict(zip(r.players, r.rating))
        if repeat == 0:
            assert [row["player"] for row in r.table()] == ["m3", "m2", "m1", "m0"]
        for k, name in enumerate(names):
            i = r.players.index(name)
            covered += r.ci_low[i] <= truth[k] <= r.ci_high[i]
            total += 1
        assert abs(est["m3"] - est["m0"] - (truth[3] - truth[0])) < 1.0
    assert covered / total >= 0.90


def test_ties_count_half():
    # a vs b only ties: equal strengths.
    s = fit_strengths([("a", "b", 0.5)] * 10, ["a", "b"])
    assert s == pytest.approx([0.0, 0.0], abs=1e-6)
    # 3 wins + 2 ties out of 5 = 0.8 win rate → log-odds difference log(4).
    s = fit_strengths([("a", "b", 1.0)] * 3 + [("a", "b", 0.5)] * 2, ["a", "b"])
    assert s[0] - s[1] == pytest.approx(np.log(4), rel=1e-3)


def test_win_rate_matrix():
    players, rate, games = win_rate_matrix([("a", "b", 1), ("b", "a", 0.5), ("a", "c", 0)])
    assert players == ["a", "b", "c"]
    assert rate[0, 1] == pytest.approx(0.75) and rate[1, 0] == pytest.approx(0.25)
    assert rate[2, 0] == 1.0 and np.isnan(rate[1, 2]) and games[0, 1] == 2


def test_bad_comparisons_rejected():
    with pytest.raises(ValueError, match="itself"):
        bradley_terry([("a", "a", 1)])
    with pytest.raises(ValueError, match="not in"):
        bradley_terry([("a", "b", 2)])


def _clustered(truth, items, shock_sd, rng):
    """Every item meets every pair of players once; each player's strength on an item is its rating plus an
    item-specific shock, so the comparisons of one item are correlated."""
    names = [f"m{i}" for i in range(len(truth))]
    comps, clusters = [], []
    for item in range(items):
        s = truth + rng.normal(0, shock_sd, len(truth))
        for i in range(len(truth)):
            for j in range(i + 1, len(truth)):
                comps.append((names[i], names[j], float(rng.random() < 1 / (1 + np.exp(-(s[i] - s[j]))))))
                clusters.append(item)
    return names, comps, clusters


def test_item_bootstrap_covers_with_several_comparisons_per_item():
    truth = np.array([-0.8, -0.2, 0.3, 0.7])
    # The population ratings under item shocks are attenuated: take them from one very large fit.
    _, big, _ = _clustered(truth, 20_000, 1.5, np.random.default_rng(99))
    target = fit_strengths(big, [f"m{i}" for i in range(4)])
    covered, total = 0, 0
    for rep in range(25):
        rng = np.random.default_rng(rep)
        names, comps, clusters = _clustered(truth, 40, 1.5, rng)
        by_item = bradley_terry(comps, n_boot=60, seed=rep, clusters=clusters)
        assert by_item.extra == {"resampled": "items", "n_items": 40}
        for k, name in enumerate(names):
            i = by_item.players.index(name)
            covered += by_item.ci_low[i] <= target[k] <= by_item.ci_high[i]
            total += 1
    # benchmarks/bench_paired_calibration.py measures both resampling schemes with more rounds.
    assert covered / total >= 0.90


def test_cluster_labels_must_match():
    with pytest.raises(ValueError, match="cluster labels"):
        bradley_terry([("a", "b", 1.0), ("a", "b", 0.0)], clusters=[1])
