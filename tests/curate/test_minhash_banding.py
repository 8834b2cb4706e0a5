"""LSH banding: our own optimiser picks the same (bands, rows) as datasketch's MinHashLSH (the reference)."""
import pytest

from alignsmith.curate.dedup.minhash import MinHashConfig


@pytest.mark.parametrize("threshold,num_perm", [(0.5, 128), (0.8, 128), (0.3, 64), (0.9, 256), (0.7, 32)])
def test_banding_matches_datasketch(threshold, num_perm):
    from datasketch import MinHashLSH
    reference = MinHashLSH(threshold=threshold, num_perm=num_perm)
    assert MinHashConfig(threshold=threshold, num_perm=num_perm).banding() == (reference.b, reference.r)


def test_explicit_bands_beyond_num_perm_are_refused():
    with pytest.raises(ValueError, match="exceeds num_perm"):
        MinHashConfig(num_perm=64, bands=9, rows=8).banding()
