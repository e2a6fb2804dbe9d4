"""The reference preview: chips per attachment, thumbnails for local images, red for dangling."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

import seedance_nb as sd


def test_chips_thumbnails_and_dangling_references(tmp_path: Path) -> None:
    fox = tmp_path / "fox.png"
    Image.new("RGB", (640, 480), (200, 80, 20)).save(fox)
    preview = sd.show_references(
        "The fox from [Image 1] dances to [Audio 1] beside [Image 2]",
        images=[fox], audios=["https://cdn.example/a.mp3"],
    )  # fmt: skip
    page = preview._repr_html_()
    assert page.count('class="seedance-ref"') == 2  # Image 1 and Audio 1 resolve
    assert page.count("seedance-ref-missing") == 1 and "[Image 2]" in page
    assert "data:image/png;base64," in page  # the local image is shown as a thumbnail
    assert [i.severity for i in preview.issues] == ["error"]
    assert "[Image 2] points at nothing" in page


def test_unused_attachments_are_warnings() -> None:
    preview = sd.show_references("A calm lake", videos=["https://cdn.example/v.mp4"])
    assert [i.severity for i in preview.issues] == ["warning"]
    assert "[Video 1] is attached but the prompt never names it" in preview._repr_html_()


def test_prompt_text_is_escaped() -> None:
    page = sd.show_references(
        "<script>alert(1)</script> [Image 1]", images=["https://x.test/a.png"]
    )._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page
