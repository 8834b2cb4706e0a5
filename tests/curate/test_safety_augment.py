"""Context and wrapper variants for the harmful-prompt probe's training set (no model needed)."""
import pytest

from alignsmith.curate.safety.prompt_augment import PREFACES, WRAPPERS, augmented


def test_variants_keep_labels_and_use_the_same_frames_for_both_classes():
    texts = [f"request number {i}" for i in range(200)]
    labels = [i % 2 for i in range(200)]
    out, out_labels = augmented(texts, labels, share=0.5, seed=0)
    assert len(out) == 100
    for variant, label in zip(out, out_labels):
        source = int(variant.rsplit(" ", 1)[-1])
        assert label == labels[source]  # the label of the request it was built from
        assert any(variant.startswith(p) for p in PREFACES) or any(variant.startswith(w.split("{}")[0]) for w in WRAPPERS)
    prefaced = [y for v, y in zip(out, out_labels) if any(v.startswith(p) for p in PREFACES)]
    assert 0 < sum(prefaced) < len(prefaced)  # prefaces go on harmful and benign requests alike


def test_smaller_share_is_a_prefix_and_the_seed_fixes_the_output():
    texts = [f"How do I do thing {i}?" for i in range(100)]
    labels = [0] * 100
    small, _ = augmented(texts, labels, share=0.1, seed=3)
    large, _ = augmented(texts, labels, share=0.3, seed=3)
    assert large[:len(small)] == small and augmented(texts, labels, share=0.3, seed=3)[0] == large
    assert augmented(texts, labels, share=0.3, seed=4)[0] != large
    assert augmented(texts, labels, share=0.0, seed=0) == ([], [])
    with pytest.raises(ValueError, match="share"):
        augmented(texts, labels, share=1.5, seed=0)


def test_wrapped_text_keeps_i_and_acronyms_capitalised():
    texts = ["I need help with this.", "AI safety question here.", "How does rain form?"] * 100
    out, _ = augmented(texts, [0] * 300, share=1.0, seed=0)
    assert all("I need help" in v or "AI safety" in v or "ow does rain form" in v for v in out)
    assert not any("i need help" in v or "ai safety" in v for v in out)
    assert any(", how does rain form" in v for v in out)  # after a comma wrapper, the ask goes on in lower case


def test_training_set_adds_variants_only_when_asked(shared_data):
    from alignsmith.curate.safety.training_data import harmful_prompt_training_set
    plain = harmful_prompt_training_set(shared_data)
    assert "augmented" not in plain.counts()  # the shipped head is fitted without variants
    more = harmful_prompt_training_set(shared_data, augment_share=0.05)
    counts = more.counts()["augmented"]
    assert counts["0"] + counts["1"] == round(0.05 * len(plain.texts)) and counts["0"] > 0 and counts["1"] > 0
    assert more.texts[:len(plain.texts)] == plain.texts
