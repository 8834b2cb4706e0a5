"""LLM judges and reward models that score responses, their prompts, cache and cards."""
