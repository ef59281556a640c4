import pytest

from rdcn import profiles


def test_every_chapter_has_every_profile_with_the_same_sizes():
    for chapter in profiles.chapters():
        names = {p: set(profiles.sizes(chapter, p)) for p in profiles.PROFILES}
        assert names["smoke"] == names["book"] == names["paper"], chapter


def test_attribute_and_item_access_and_override():
    s = profiles.sizes("preliminaries", "smoke", draws=10)
    assert s.draws == s["draws"] == 10
    with pytest.raises(AttributeError, match="draws"):
        s.nonexistent


@pytest.mark.parametrize("call, match", [
    (lambda: profiles.sizes("nope", "book"), r"chapter must be one of .*preliminaries"),
    (lambda: profiles.sizes("preliminaries", "huge"), r"profile must be one of \['smoke', 'book', 'paper'\]"),
    (lambda: profiles.sizes("preliminaries", "book", widht=3), r"unknown size\(s\) \['widht'\].*allowed: .*draws"),
    (lambda: profiles.sizes("preliminaries", "book", teaser_width=-1.0), r"'teaser_width'.*positive"),
    (lambda: profiles.sizes("preliminaries", "book", draws=0), r"'draws'.*positive"),
    (lambda: profiles.check_device("tpu"), r"device must be one of \['cpu', 'cuda'\]"),
])
def test_bad_input_is_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
