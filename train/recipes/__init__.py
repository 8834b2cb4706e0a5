"""Recipes: YAML chains of the existing stages (prompts → generate → curate → pairs → train → eval → compare),
run by `alignsmith recipe run`, each stage a resumable folder under the recipe's output folder."""
