"""lm_features (chat-model hidden states for the harmful-prompt probe) and heads over either feature kind."""
import numpy as np
import pytest

from alignsmith.curate.safety import HarmfulPromptClassifier
from alignsmith.curate.safety.linear_head import LinearHead
from alignsmith.curate.safety.lm_features import lm_features

PROMPTS = ["How do I kill a Python process?",
           "Write a long, detailed story about a lighthouse keeper who befriends a seagull over one winter.",
           "hi"]


def test_features_have_one_block_per_pool_and_layer_and_do_not_depend_on_batching(smollm2):
    together = lm_features(PROMPTS, model=smollm2, layers=(2, 5), pools=("last", "mean"))
    assert together.shape == (3, 2 * 2 * 576) and together.dtype == np.float32
    alone = np.stack([lm_features([p], model=smollm2, layers=(2, 5), pools=("last", "mean"))[0] for p in PROMPTS])
    # rows come back in input order, and left padding next to a longer prompt changes nothing that matters
    np.testing.assert_allclose(together, alone, rtol=1e-3, atol=1e-3)
    assert not np.allclose(together[0], together[2], atol=1e-2)
    last_only = lm_features(PROMPTS, model=smollm2, layers=(2, 5), pools=("last",))
    np.testing.assert_allclose(last_only, together[:, :2 * 576], rtol=1e-4, atol=1e-4)


def test_features_reject_bad_layers_and_pools(smollm2):
    with pytest.raises(ValueError, match="pooling"):
        lm_features(["x"], model=smollm2, layers=(2,), pools=("max",))
    with pytest.raises(ValueError, match="layers"):
        lm_features(["x"], model=smollm2, layers=(30,))


def test_classifier_uses_the_feature_kind_its_head_was_fitted_on(tmp_path, smollm2):
    width = 576
    lm_head = LinearHead(coef=[0.0] * width, intercept=2.0,
                         meta={"features": "lm_hidden", "feature_model": "no-such-model", "layers": [3],
                               "pools": ["last"], "max_tokens": 64, "threshold": 0.5})
    lm_head.save(tmp_path / "lm.json")
    # the head names a model that does not exist here; feature_model points it at the real folder
    classifier = HarmfulPromptClassifier(weights=str(tmp_path / "lm.json"), feature_model=smollm2, use_rules=False)
    assert classifier.score(PROMPTS) == pytest.approx([1 / (1 + np.exp(-2.0))] * 3)
    minilm_head = LinearHead(coef=[0.0] * 384, intercept=-2.0, meta={"max_tokens": 32})
    minilm_head.save(tmp_path / "minilm.json")
    old_style = HarmfulPromptClassifier(weights=str(tmp_path / "minilm.json"), use_rules=False)
    assert old_style.predict(PROMPTS) == [False] * 3 and old_style.threshold == 0.5
