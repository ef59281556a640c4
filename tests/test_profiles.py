import math

import pytest

from rdcn.core import profiles


def test_every_chapter_has_every_profile_with_the_same_sizes():
    for chapter in profiles.chapters():
        names = {p: set(profiles.sizes(chapter, p)) for p in profiles.PROFILES}
        assert names["smoke"] == names["book"] == names["paper"], chapter
        assert set(profiles.DATA_NEEDS[chapter]) == set(profiles.PROFILES)


def test_attribute_and_item_access_and_override():
    s = profiles.sizes("preliminaries", "smoke", draws=10)
    assert s.draws == s["draws"] == 10
    with pytest.raises(AttributeError, match="draws"):
        _ = s.nonexistent


@pytest.mark.parametrize("call, match", [
    (lambda: profiles.sizes("nope", "book"), r"chapter must be one of .*preliminaries"),
    (lambda: profiles.sizes("preliminaries", "huge"), r"profile must be one of \['smoke', 'book', 'paper'\]"),
    (lambda: profiles.sizes("preliminaries", "book", widht=3), r"unknown size\(s\) \['widht'\].*allowed: .*draws"),
    (lambda: profiles.sizes("preliminaries", "book", teaser_width=-1.0), r"'teaser_width'.*positive"),
    (lambda: profiles.sizes("preliminaries", "book", draws=0), r"'draws'.*positive integer"),
    (lambda: profiles.sizes("random_cnn_trained_dcn", "book", iterations=2.5), r"'iterations'.*positive integer"),
    (lambda: profiles.sizes("theory", "book", photos=math.inf), r"'photos'.*positive integer"),
    (lambda: profiles.sizes("random_cnn_trained_dcn", "book", lr=math.inf), r"'lr'.*finite positive number"),
    (lambda: profiles.sizes("theory", "book", widths=4), r"'widths'.*tuple"),
    (lambda: profiles.check_device("tpu"), r"device must be one of \['cpu', 'cuda'\]"),
])
def test_bad_input_is_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
