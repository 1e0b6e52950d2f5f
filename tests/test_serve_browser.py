"""End to end in headless Chromium (Debian's `chromium`, driven by Playwright): type a prompt, watch the skeleton move,
open a reference, search, caption an upload and download a file, all through the page served by uvicorn on a free
loopback port.

Set REMOGPT_UPDATE_SCREENSHOT=1 to also write the page's screenshot to docs/images/serve.png (taken with the shipped
model when the package has one, at 1360 x 820).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (the test extra) is not installed")

DEV_MODEL = Path("/tmp/dev/lm")
UPDATE_SCREENSHOT = bool(os.environ.get("REMOGPT_UPDATE_SCREENSHOT"))
DOCS_SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "images" / "serve.png"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
    "--enable-unsafe-swiftshader", "--use-angle=swiftshader",  # software WebGL: no GPU on CI machines
]
PROMPT = "a person waves with the right hand while walking forward"


@pytest.fixture(scope="module")
def model_dir(request) -> Path:
    from remogpt.shipped import shipped_model_dir

    if UPDATE_SCREENSHOT and shipped_model_dir() is not None:  # the docs' picture shows the shipped model
        return shipped_model_dir()
    try:
        return request.getfixturevalue("tiny_model_dir")
    except pytest.FixtureLookupError:
        if (DEV_MODEL / "remogpt.json").is_file():
            return DEV_MODEL
        pytest.skip("no tiny trained model: tests/conftest.py has no tiny_model_dir fixture yet")


@pytest.fixture(scope="module")
def server(model_dir):
    """uvicorn serving the app on a free loopback port, in a thread; yields the base URL."""
    import uvicorn

    from remogpt.serve.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(model_dir), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, timeout=60_000)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    # bypass_csp: Playwright evaluates its wait predicates as strings, which the page's policy (no eval) forbids
    # fewer pixels for software WebGL to fill, unless the picture for the docs is being taken
    size = {"width": 1360, "height": 820} if UPDATE_SCREENSHOT else {"width": 1024, "height": 680}
    context = browser.new_context(viewport=size, bypass_csp=True, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)  # software WebGL on a busy 2-core machine is slow
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(server)
    page.wait_for_function("window.remogptStats && (window.remogptStats.webgl || !document.getElementById"
                           "('stage-message').hidden)", timeout=30_000)
    assert page.evaluate("window.remogptStats.webgl"), page.inner_text("#stage-message")
    yield page
    context.close()


def stats(page) -> dict:
    return page.evaluate("({...window.remogptStats})")


def coloured_pixels(png: Path, box: dict) -> tuple[int, int]:
    """How many pixels inside `box` of a screenshot are clearly blue (left limbs) and clearly red (right limbs)."""
    from PIL import Image

    image = Image.open(png).convert("RGB")
    left, top = int(box["x"]), int(box["y"])
    rgb = np.asarray(image.crop((left, top, left + int(box["width"]), top + int(box["height"])))).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    blue = (b > r + 50) & (b > g + 20)
    red = (r > g + 60) & (r > b + 60)
    return int(blue.sum()), int(red.sum())


def test_typing_a_prompt_animates_a_skeleton(page, tmp_path):
    page.fill("#prompt", PROMPT)
    page.fill("#seed", "1")  # reproducible, and "another sample" then steps to seed 2
    page.press("#prompt", "Enter")
    page.wait_for_function("window.remogptStats.motionId && window.remogptStats.framesDrawn > 2", timeout=120_000)
    first = stats(page)
    assert first["bones"] == 21 and first["playing"]
    # it moves: more frames drawn, and a later frame of the motion shown
    page.wait_for_function(f"window.remogptStats.framesDrawn > {first['framesDrawn'] + 3} && "
                           f"window.remogptStats.frame !== {first['frame']}", timeout=60_000)
    assert page.inner_text("#motion-title") == PROMPT
    assert page.text_content("#motion-source") == "generated motion"
    assert page.locator("#references .ref").count() == 2  # text->motion and text->text

    shot = tmp_path / "serve.png"
    page.screenshot(path=str(shot))
    blue, red = coloured_pixels(shot, page.locator("#canvas").bounding_box())
    assert blue > 50 and red > 50, f"the stick figure is not visible (blue {blue}, red {red} pixels)"
    if UPDATE_SCREENSHOT:
        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS_SCREENSHOT)

    page.click("#play")  # pause: the frame stops moving
    paused = stats(page)["frame"]
    page.wait_for_timeout(300)
    assert not stats(page)["playing"] and stats(page)["frame"] == paused

    page.click("#another-btn")  # another sample of the same prompt
    page.wait_for_function(f"window.remogptStats.motionId !== '{first['motionId']}'", timeout=120_000)
    assert page.input_value("#seed") == "2"

    reference = page.locator("#references .ref").first
    caption = reference.locator(".ref-caption").inner_text()
    reference.click()
    page.wait_for_function("document.getElementById('motion-source').textContent === 'database motion'",
                           timeout=60_000)
    assert page.inner_text("#motion-title") == caption
    assert not page.errors


def test_search_caption_and_download_through_the_page(page, server, tmp_path):
    page.click(".chip >> nth=0")  # an example prompt generates at once
    page.wait_for_function("window.remogptStats.motionId !== null", timeout=120_000)
    assert page.input_value("#prompt") == page.inner_text(".chip >> nth=0")

    page.click("[data-tab=search]")
    page.fill("#query", "a person waves")
    page.press("#query", "Enter")
    page.wait_for_selector("#search-motion .ref")
    assert page.locator("#search-text .ref").count() == 5
    page.click("#search-motion .ref >> nth=0")  # a dataset motion: long enough to caption whatever was generated
    page.wait_for_function("document.getElementById('motion-source').textContent === 'database motion'")

    with page.expect_download() as download:
        page.click(".download[data-what=joints]")
    path = tmp_path / "joints.npy"
    download.value.save_as(path)
    joints = np.load(path, allow_pickle=False)
    assert joints.ndim == 3 and joints.shape[1:] == (22, 3)

    shown = stats(page)["motionId"]
    page.click("[data-tab=caption]")
    page.set_input_files("#upload", str(path))
    page.wait_for_selector("#caption-result:not([hidden])", timeout=120_000)
    page.wait_for_function(f"window.remogptStats.motionId !== '{shown}'")
    assert page.text_content("#motion-source") == "uploaded motion"
    assert page.locator("#caption-references .ref").count() == 2

    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((5, 7), np.float32))
    page.set_input_files("#upload", str(bad))
    page.wait_for_selector("#status.error")
    assert "expected joint positions" in page.inner_text("#status")
    assert not page.errors


def test_steps_make_one_long_motion_with_notices_and_continue_extends_it(page):
    page.fill("#prompt", "a person walks forward | a person does a cartwheel")
    page.fill("#seed", "0")
    page.press("#prompt", "Enter")
    page.wait_for_function("window.remogptStats.motionId && !document.getElementById('generate-steps').hidden", timeout=120_000)
    steps = page.locator("#generate-steps li")
    assert steps.count() == 2 and "a person does a cartwheel" in steps.nth(1).inner_text()
    assert "cartwheel" in page.inner_text("#generate-notices")  # the model says it does not know the word
    first = stats(page)["motionId"]
    page.click("#continue-btn")
    page.wait_for_function(f"window.remogptStats.motionId && window.remogptStats.motionId !== '{first}'", timeout=120_000)
    assert page.inner_text("#motion-title").endswith("(continued)")
    assert not page.errors
