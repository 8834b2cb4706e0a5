"""Generation backends: vLLM (default), transformers (`hf`), and OpenAI-compatible HTTP (`openai`)."""
from .base import BACKENDS, Backend, Completion, GenParams, get_backend

__all__ = ["BACKENDS", "Backend", "Completion", "GenParams", "get_backend"]
