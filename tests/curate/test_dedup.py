"""Dedup: exact, MinHash near-duplicate (acceptance: planted near-dups in real text), semantic, bad input."""
from __future__ import annotations

import gzip
import json
import random
import re

import numpy as np
import pytest

from alignsmith.curate.dedup import DedupConfig, MinHashConfig, dedup_rows
from alignsmith.curate.dedup.clusters import duplicate_of
from alignsmith.curate.dedup.minhash import MinHasher, bucket_pairs, near_duplicate_pairs, normalise_for_shingles
from alignsmith.train.cli import main


def real_texts(shared_data) -> list[str]:
    """AlpacaEval instructions + first human turns of HH-RLHF helpful-base test, >= 8 words, unique."""
    alpaca = shared_data / "alpaca_eval/alpaca_eval_805_prompts.jsonl"
    texts = [json.loads(line)["instruction"] for line in open(alpaca)]
    with gzip.open(shared_data / "hh_rlhf/helpful-base/test.jsonl.gz", "rt") as f:
        for line in f:
            texts.append(json.loads(line)["chosen"].split("\n\nHuman: ")[1].split("\n\nAssistant:")[0].strip())
    seen, out = set(), []
    for t in texts:
        key = " ".join(t.lower().split())
        if key not in seen and len(t.split()) >= 8:
            seen.add(key)
            out.append(t)
    return out


def without_natural_near_dups(texts: list[str], max_jaccard: float = 0.3) -> list[str]:
    """Drop texts whose true character-5-gram Jaccard with an earlier text is >= max_jaccard (computed
    exactly with scikit-learn, independent of the code under test), so every duplicate left is planted."""
    from sklearn.feature_extraction.text import CountVectorizer
    norm = [normalise_for_shingles(t) for t in texts]
    x = CountVectorizer(analyzer="char", ngram_range=(5, 5), binary=True).fit_transform(norm).astype(np.int32)
    inter = (x @ x.T).toarray()
    size = np.asarray(x.sum(1)).ravel()
    jac = inter / (size[:, None] + size[None, :] - inter)
    np.fill_diagonal(jac, 0)
    keep: list[int] = []
    for i in range(len(texts)):
        if not keep or jac[i, keep].max() < max_jaccard:
            keep.append(i)
    return [texts[i] for i in keep]


def perturb(text: str, rng: random.Random, vocab: list[str]) -> str:
    """A near-duplicate: maybe two sentences swapped, ~10% of words edited, casing and punctuation changed."""
    sents = re.split(r"(?<=[.?!])\s+", text)
    if len(sents) >= 2 and rng.random() < 0.5:
        i, j = rng.sample(range(len(sents)), 2)
        sents[i], sents[j] = sents[j], sents[i]
    words = " ".join(sents).split()
    for _ in range(max(1, round(len(words) * 0.1))):
        op, k = rng.choice("sdi"), rng.randrange(len(words))
        if op == "s":
            words[k] = rng.choice(vocab)
        elif op == "d" and len(words) > 3:
            del words[k]
        else:
            words.insert(k, rng.choice(vocab))
    out = " ".join(words)
    casing = rng.random()
    out = out.upper() if casing < 0.3 else out.lower() if casing < 0.6 else out
    if rng.random() < 0.5:
        out = re.sub(r"[,.?!;:]", "", out)
    else:
        out = out.replace(" ", "  ").rstrip(".?!") + "!!"
    return out


@pytest.fixture(scope="module")
def planted(shared_data):
    texts = without_natural_near_dups(real_texts(shared_data))
    rng = random.Random(0)
    vocab = [w for t in texts for w in t.split()]
    rows = [{"id": f"t{i}", "text": t} for i, t in enumerate(texts)]
    truth = {}
    for s in rng.sample(range(len(texts)), 300):
        rows.append({"id": f"v{s}", "text": perturb(texts[s], rng, vocab)})
        truth[f"v{s}"] = f"t{s}"
    rng.shuffle(rows)  # duplicates may come before their originals
    return rows, truth


def test_minhash_precision_recall_on_planted_near_duplicates(planted):
    rows, truth = planted
    kept, dropped = dedup_rows(rows, DedupConfig(method="minhash"))  # default threshold
    pair = {frozenset((r["id"], r["duplicate_of"])) for r in dropped}
    planted_pairs = {frozenset(p) for p in truth.items()}
    true_pos = len(pair & planted_pairs)
    precision, recall = true_pos / len(pair), true_pos / len(planted_pairs)
    assert precision >= 0.95 and recall >= 0.95, (precision, recall)
    assert len(kept) + len(dropped) == len(rows)


def test_signature_similarity_estimates_jaccard():
    hasher = MinHasher(MinHashConfig(num_perm=256))
    rng = random.Random(1)
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi".split()
    errors = []
    for _ in range(100):
        a = [rng.choice(words) for _ in range(20)]
        b = list(a)
        for _ in range(rng.randint(0, 8)):
            b[rng.randrange(20)] = rng.choice(words)
        sa, sb = (normalise_for_shingles(" ".join(x)) for x in (a, b))
        ga, gb = ({s[i:i + 5] for i in range(len(s) - 4)} for s in (sa, sb))
        sig = hasher.signatures([" ".join(a), " ".join(b)])
        errors.append((sig[0] == sig[1]).mean() - len(ga & gb) / len(ga | gb))
    assert abs(np.mean(errors)) < 0.02 and np.sqrt(np.mean(np.square(errors))) < 0.06


def test_minhash_streaming_chunks_and_workers_agree():
    texts = [f"document number {i % 50} about topic {i % 7} with filler words" for i in range(300)]
    one = near_duplicate_pairs(texts, MinHashConfig(chunk_size=1000))
    small = near_duplicate_pairs(texts, MinHashConfig(chunk_size=7))
    assert one[2] == small[2] == 300
    assert np.array_equal(one[0], small[0]) and len(one[0]) > 0


def test_bucket_pairs_star_and_chain():
    keys = np.array([5, 9, 5, 5, 1], dtype=np.uint64)
    assert sorted(map(tuple, bucket_pairs(keys).tolist())) == [(0, 2), (0, 3), (2, 3)]


def test_clusters_keep_best_priority():
    pairs = np.array([[0, 1], [1, 2], [3, 4]])
    assert duplicate_of(6, pairs, np.arange(6.0)).tolist() == [-1, 0, 0, -1, 3, -1]
    assert duplicate_of(6, pairs, np.array([3.0, 1, 2, 9, 0, 0])).tolist() == [1, -1, 1, 4, -1, -1]


def test_exact_and_keep_by_score_and_reference():
    rows = [{"id": 1, "text": "Hello  World", "s": {"r": 0.1}}, {"id": 2, "text": "hello world", "s": {"r": 0.9}},
            {"id": 3, "text": "Goodbye"}]
    kept, dropped = dedup_rows(rows, DedupConfig(method="exact"))
    assert [r["id"] for r in kept] == [1, 3] and dropped[0]["duplicate_of"] == 1
    kept, dropped = dedup_rows(rows[:2], DedupConfig(method="exact", keep="score", score_field="s.r"))
    assert [r["id"] for r in kept] == [2] and dropped[0]["duplicate_of"] == 2
    kept, dropped = dedup_rows(rows, DedupConfig(method="exact"), reference=[{"id": "ref-9", "text": "goodbye"}])
    assert {r["id"]: r["duplicate_of"] for r in dropped} == {2: 1, 3: "ref-9"}
    assert "reference set" in [r for r in dropped if r["id"] == 3][0]["drop_reason"]


def test_bad_input_is_quarantined_not_lost(tmp_path):
    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": "a", "text": "A short normal text about cats."}).encode(),
             json.dumps({"id": "b"}).encode(),
             json.dumps({"id": "c", "text": ["not", "a", "string"]}).encode(),
             b'{"id": "d", "text": "bad \xc3\x28 utf8"}',
             json.dumps({"id": "e", "text": "x" * 10_000_000}).encode(),
             json.dumps({"id": "f", "text": "a short normal text about cats!"}).encode()]
    src.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out"
    assert main(["curate", "dedup", "--input", str(src), "--text-field", "text", "--id-field", "id",
                 "--method", "minhash", "--threshold", "0.5", "--out", str(out)]) == 0
    kept = [json.loads(x) for x in (out / "kept.jsonl").read_text().splitlines()]
    dropped = [json.loads(x) for x in (out / "dropped.jsonl").read_text().splitlines()]
    assert [r["id"] for r in kept] == ["a"]
    assert len(kept) + len(dropped) == 6
    by_line = {r["_line"]: r for r in dropped}
    assert "missing text field 'text'" in by_line[2]["drop_reason"]
    assert "list, not text" in by_line[3]["drop_reason"]
    assert "invalid UTF-8" in by_line[4]["drop_reason"]
    assert "10,000,000 characters" in by_line[5]["drop_reason"]
    assert by_line[6]["duplicate_of"] == "a" and all("duplicate_of" in r for r in dropped)


@pytest.mark.parametrize("method", ["exact", "minhash"])
def test_dedup_command_contract(tmp_path, method):
    src = tmp_path / "in.jsonl"
    rows = [{"id": i, "text": t} for i, t in enumerate(
        ["The cat sat on the mat today.", "the cat sat on the mat today.", "Dogs bark at night loudly."])]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / method
    assert main(["curate", "dedup", "--input", str(src), "--text-field", "text", "--id-field", "id",
                 "--method", method, "--out", str(out)]) == 0
    dropped = [json.loads(x) for x in (out / "dropped.jsonl").read_text().splitlines()]
    assert [(r["id"], r["duplicate_of"]) for r in dropped] == [(1, 0)]
    assert len((out / "kept.jsonl").read_text().splitlines()) == 2 and (out / "DONE").exists()


def test_semantic_dedup_catches_paraphrases():
    rows = [{"id": "a", "text": "How do I bake a loaf of sourdough bread at home?"},
            {"id": "b", "text": "What is the way to bake sourdough bread at home?"},
            {"id": "c", "text": "Which planets in the solar system have rings?"},
            {"id": "d", "text": "Explain how a car engine works."}]
    kept, dropped = dedup_rows(rows, DedupConfig(method="semantic", text_field="text"))
    assert [r["id"] for r in kept] == ["a", "c", "d"] and dropped[0]["duplicate_of"] == "a"


def test_embedding_leaves_grad_mode_alone():
    import torch

    from alignsmith.curate.core.embeddings import embed
    assert torch.is_grad_enabled()
    embed(["hello world"])
    assert torch.is_grad_enabled(), "embedding switched off autograd for the whole process"
