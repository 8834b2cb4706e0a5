"""Dataclass configs: YAML, then flags; typed list flags; unknown keys refused."""
import argparse
from dataclasses import dataclass, field

import pytest

from alignsmith.curate.core.config import add_config_args, args_to_overrides, load_config
from alignsmith.curate.core.errors import InputError


@dataclass
class _Cfg:
    seeds: list[int] = field(default_factory=lambda: [0])
    rate: float = 0.1
    name: str = "x"
    on: bool = False


def _parse(argv):
    p = argparse.ArgumentParser()
    add_config_args(p, _Cfg)
    return args_to_overrides(p.parse_args(argv), _Cfg)


def test_flags_override_yaml_and_lists_are_typed(tmp_path):
    y = tmp_path / "c.yaml"
    y.write_text("rate: 0.5\nname: fromyaml\n")
    cfg = load_config(_Cfg, str(y), _parse(["--seeds", "3", "--seeds", "4", "--on", "--name", "flag"]))
    assert cfg == _Cfg(seeds=[3, 4], rate=0.5, name="flag", on=True)


def test_unknown_yaml_key_is_refused(tmp_path):
    y = tmp_path / "c.yaml"
    y.write_text("rat: 0.5\n")
    with pytest.raises(InputError, match="unknown config key 'rat' .did you mean 'rate'"):
        load_config(_Cfg, str(y))
