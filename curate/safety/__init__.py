"""Harmlessness: refusal detection for responses, harmful-request classification for prompts, and the
`safety_policy` filter / `safety` scorer built on both. Importing this package registers those two.

Heavy libraries (torch, transformers) load on the first call that needs embeddings, not on import.
"""
from .harmful import HarmfulPromptClassifier
from .policy import SafetyPolicyFilter, SafetyScorer
from .refusal import RefusalDetector, RefusalVerdict

__all__ = ["HarmfulPromptClassifier", "RefusalDetector", "RefusalVerdict", "SafetyPolicyFilter", "SafetyScorer"]
