"""`remogpt serve`: the JSON API through FastAPI's TestClient against a tiny trained model, every bad-input path, the
hardening (body limits, queue bound, timeouts, ids instead of paths) and the CLI's argument errors."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from remogpt.serve.limits import ServeLimits  # noqa: E402

DEV_MODEL = Path("/tmp/dev/lm")  # a developer's throwaway model, used only where the shared fixture is missing


@pytest.fixture(scope="module")
def model_dir(request) -> Path:
    try:
        return request.getfixturevalue("tiny_model_dir")
    except pytest.FixtureLookupError:
        if (DEV_MODEL / "remogpt.json").is_file():
            return DEV_MODEL
        pytest.skip("no tiny trained model: tests/conftest.py has no tiny_model_dir fixture yet")


@pytest.fixture(scope="module")
def model(model_dir):
    from remogpt.pipeline import ReMoGPT

    return ReMoGPT.from_pretrained(model_dir)


@pytest.fixture(scope="module")
def client(model, model_dir):
    from remogpt.serve.app import create_app

    limits = ServeLimits(max_upload_bytes=256 * 1024, max_upload_frames=120, max_text_chars=120)
    with TestClient(create_app(model_dir, model=model, limits=limits)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def generated(client) -> dict:
    response = client.post("/api/generate", json={"text": "a person walks forward", "length_seconds": 2.0, "seed": 7})
    assert response.status_code == 200, response.text
    return response.json()


def npy(array, **kwargs) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, **kwargs)
    return buffer.getvalue()


def error_of(response) -> str:
    assert response.headers["content-type"].startswith("application/json")
    return response.json()["error"]


# ------------------------------------------------------------------------------------------------- the page
def test_page_and_vendored_three_js_are_served_with_a_strict_policy(client):
    page = client.get("/")
    assert page.status_code == 200 and "<canvas" in page.text and "/static/js/app.js" in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "http" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    three = client.get("/static/vendor/three.bundle.min.js")
    assert three.status_code == 200 and "OrbitControls" in three.text and len(three.content) > 100_000
    assert "MIT" in client.get("/static/vendor/three.LICENSE").text
    for name in ("js/app.js", "js/viewer.js", "js/api.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200
    # the static folder is the only one reachable
    for path in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2Fapi.py"):
        assert client.get(path).status_code == 404


def test_info_describes_the_model_skeleton_colours_and_limits(client):
    from remogpt.render import style

    info = client.get("/api/info").json()
    assert info["fps"] == 20.0 and info["feature_dim"] == 263 and info["database_size"] > 0
    bones = info["skeleton"]["bones"]
    assert len(bones) == 21 and info["skeleton"]["num_joints"] == 22 and info["skeleton"]["head"] == 15
    colours = {(b["side"], b["child"]): b["colour"] for b in bones}
    hex_of = lambda rgb: "#%02x%02x%02x" % rgb  # noqa: E731
    assert colours[("left", 1)] == hex_of(style.LEFT_LEG) and colours[("right", 2)] == hex_of(style.RIGHT_LEG)
    assert colours[("left", 16)] == hex_of(style.LEFT_ARM) and colours[("right", 17)] == hex_of(style.RIGHT_ARM)
    assert info["limits"]["max_text_chars"] == 120 and info["limits"]["max_upload_bytes"] == 256 * 1024
    assert client.get("/api/health").json()["status"] == "ok"


# ------------------------------------------------------------------------------------------------- generate
def test_generate_returns_joints_and_viewable_context(client, generated):
    joints = np.array(generated["joints"])
    frames = generated["num_frames"]
    assert 0 < frames <= 40 and joints.shape == (frames, 22, 3) and np.isfinite(joints).all()  # at most 2 s at 20 fps
    assert generated["seconds"] == frames / 20 and generated["seed"] == 7
    assert generated["source"] == "generated" and generated["title"] == "a person walks forward"
    context = generated["context"]
    assert [c["kind"] for c in context] == ["text->motion", "text->text"]  # the tiny model retrieves k=1 of each
    for reference in context:
        motion = client.get(f"/api/motions/{reference['id']}").json()
        assert motion["source"] == "database" and motion["title"] == reference["caption"]
        assert np.array(motion["joints"]).shape[1:] == (22, 3)


def test_same_seed_same_motion_and_no_seed_samples(client, generated):
    again = client.post("/api/generate", json={"text": "  a person   walks forward ", "length_seconds": 2.0, "seed": 7})
    assert again.status_code == 200
    assert again.json()["joints"] == generated["joints"] and again.json()["id"] != generated["id"]
    sampled = client.post("/api/generate", json={"text": "a person jumps"}).json()
    assert sampled["seed"] is None and sampled["num_frames"] == len(sampled["joints"]) > 0


def test_concurrent_generations_are_batched_and_all_answered(client):
    results, errors = [], []

    def ask(i):
        try:
            response = client.post("/api/generate", json={"text": f"a person walks {i} steps", "length_seconds": 1})
            results.append(response.status_code)
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and results == [200] * 6


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({"text": ""}, 400, "text is empty"),
        ({"text": " \n\t "}, 400, "text is empty"),
        ({"text": "x" * 121}, 400, "121 characters; at most 120"),
        ({"text": "a person\x00 walks"}, 400, "control characters"),
        ({"text": "😀😀"}, 400, "holds no word this model knows"),
        ({"text": "walk", "length_seconds": 0.1}, 400, "between 0.2 and 9.8 seconds"),  # one token .. the LM's budget
        ({"text": "walk", "length_seconds": 61}, 400, "at most 60 s"),  # above one clip: a long motion, bounded
        ({"text": "walk", "seed": -1}, 400, "seed must be between 0"),
        ({"text": "walk", "seed": 2**40}, 400, "seed must be between 0"),
        ({"text": "walk", "seed": "abc"}, 422, "field 'seed'"),
        ({"text": 5}, 422, "field 'text'"),
        ({"text": "walk", "path": "/etc/passwd"}, 422, "field 'path' is not accepted"),
        ({}, 400, "give either text or steps"),
    ],
)
def test_generate_rejects_bad_requests(client, body, status, message):
    response = client.post("/api/generate", json=body)
    assert response.status_code == status and message in error_of(response)


def test_generate_rejects_bad_and_oversized_bodies(client):
    response = client.post("/api/generate", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422 and "not valid JSON" in error_of(response)
    for number in (b"NaN", b"Infinity"):  # Python's JSON reader accepts these; the server does not
        body = b'{"text": "walk", "length_seconds": ' + number + b"}"
        response = client.post("/api/generate", content=body, headers={"content-type": "application/json"})
        assert response.status_code in (400, 422) and "length_seconds" in error_of(response)
    big = b'{"text": "' + b"a" * 20_000 + b'"}'
    response = client.post("/api/generate", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "16384 bytes" in error_of(response)

    def chunks():  # no Content-Length: counted as it streams in
        for _ in range(40):
            yield b"a" * 1024

    response = client.post("/api/generate", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    response = client.post("/api/generate", content=b"{}", headers={"content-type": "application/json", "content-length": "x"})
    assert response.status_code == 400


# ------------------------------------------------------------------------------------------------- downloads
def test_downloads_npy_mp4_bvh(client, generated):
    motion_id = generated["id"]
    response = client.get(f"/api/motions/{motion_id}.npy")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    assert "remogpt-a-person-walks-forward" in response.headers["content-disposition"]
    joints = np.load(io.BytesIO(response.content), allow_pickle=False)
    np.testing.assert_allclose(joints, np.array(generated["joints"]), atol=1e-4)
    features = np.load(io.BytesIO(client.get(f"/api/motions/{motion_id}.npy?what=features").content))
    assert features.shape == (len(joints), 263) and features.dtype == np.float32
    video = client.get(f"/api/motions/{motion_id}.mp4")
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4" and video.content[4:8] == b"ftyp"
    bvh = client.get(f"/api/motions/{motion_id}.bvh")
    assert bvh.status_code == 200 and bvh.content.startswith(b"HIERARCHY")
    assert f"Frames: {len(joints)}".encode() in bvh.content
    assert client.get(f"/api/motions/{motion_id}.json").json()["id"] == motion_id


@pytest.mark.parametrize(
    "path, status, message",
    [
        ("/api/motions/0123456789abcdef", 404, "unknown or has expired"),
        ("/api/motions/0123456789abcdef.mp4", 404, "unknown or has expired"),
        ("/api/motions/0123456789ABCDEF.npy", 404, "not a motion id"),
        ("/api/motions/..%2F..%2Fetc%2Fpasswd", 404, ""),
        ("/api/motions/%2Fetc%2Fpasswd.npy", 404, ""),
        ("/api/motions/0123456789abcdef.exe", 404, "not a motion id"),
    ],
)
def test_motion_urls_accept_only_server_ids(client, path, status, message):
    response = client.get(path)
    assert response.status_code == status and message in response.text


def test_npy_download_rejects_an_unknown_array_name(client, generated):
    response = client.get(f"/api/motions/{generated['id']}.npy?what=../../x")
    assert response.status_code == 400 and "joints' or 'features'" in error_of(response)


# ------------------------------------------------------------------------------------------------- caption
def test_caption_features_and_joints_uploads(client, generated):
    reference = generated["context"][0]["id"]  # a dataset motion: long enough whatever the model generated
    features = np.load(io.BytesIO(client.get(f"/api/motions/{reference}.npy?what=features").content))
    joints = np.load(io.BytesIO(client.get(f"/api/motions/{reference}.npy").content))
    for array in (features, joints):
        response = client.post("/api/caption", content=npy(array), headers={"content-type": "application/octet-stream"})
        assert response.status_code == 200, response.text
        result = response.json()
        assert isinstance(result["caption"], str) and result["source"] == "uploaded"
        assert np.array(result["joints"]).shape[1:] == (22, 3)
        assert [c["kind"] for c in result["context"]] == ["motion->text", "motion->motion"]
        assert client.get(f"/api/motions/{result['id']}.npy").status_code == 200


@pytest.mark.parametrize(
    "make, status, message",
    [
        (lambda: b"", 400, "is empty"),
        (lambda: b"hello, not a numpy file", 400, "not a .npy file"),
        (lambda: npy(np.array([{"a": 1}], dtype=object), allow_pickle=True), 400, "expected real numbers"),
        (lambda: npy(np.zeros((30, 10), np.float32)), 400, "expected joint positions"),
        (lambda: npy(np.zeros((3, 263), np.float32)), 400, "at least 4 are needed"),
        (lambda: npy(np.zeros((130, 263), np.float32)), 400, "at most 120"),
        (lambda: npy(np.full((30, 263), np.nan, np.float32)), 400, "NaN"),
        (lambda: npy(np.zeros((30, 251), np.float32)), 400, "model expects 263"),
        (lambda: npy(np.zeros((30, 22, 3), np.complex64)), 400, "expected real numbers"),
        (lambda: npy(np.zeros((10**6,), np.uint8))[:400], 400, "declares shape"),
        (lambda: npy(np.zeros((300, 263), np.float32)), 413, "262144 bytes"),
    ],
)
def test_caption_rejects_bad_uploads(client, make, status, message):
    response = client.post("/api/caption", content=make(), headers={"content-type": "application/octet-stream"})
    assert response.status_code == status and message in error_of(response)


def test_caption_refuses_multipart_forms(client):
    response = client.post("/api/caption", files={"file": ("m.npy", npy(np.zeros((30, 263), np.float32)))})
    assert response.status_code == 415 and "application/octet-stream" in error_of(response)


# ------------------------------------------------------------------------------------------------- search
def test_search_returns_both_kinds_with_viewable_motions(client):
    found = client.get("/api/search", params={"q": "a person waves", "k": 3}).json()
    assert found["query"] == "a person waves" and set(found["results"]) == {"text->motion", "text->text"}
    for kind, hits in found["results"].items():
        assert len(hits) == 3 and all(h["kind"] == kind for h in hits)
        similarities = [h["similarity"] for h in hits]
        assert similarities == sorted(similarities, reverse=True)
    hit = found["results"]["text->motion"][0]
    motion = client.get(f"/api/motions/{hit['id']}").json()
    assert motion["source"] == "database" and np.array(motion["joints"]).shape[1:] == (22, 3)
    again = client.get("/api/search", params={"q": "a person waves", "k": 3}).json()
    assert again["results"]["text->motion"][0]["id"] == hit["id"]  # the same database motion keeps its id


@pytest.mark.parametrize(
    "params, status, message",
    [
        ({"q": ""}, 400, "query q is empty"),
        ({"q": "w" * 121}, 400, "at most 120"),
        ({"q": "wave", "k": 0}, 400, "k must be between 1 and 20"),
        ({"q": "wave", "k": 21}, 400, "k must be between 1 and 20"),
        ({"q": "wave", "k": "many"}, 422, "field 'k'"),
        ({}, 422, "field 'q' is required"),
    ],
)
def test_search_rejects_bad_queries(client, params, status, message):
    response = client.get("/api/search", params=params)
    assert response.status_code == status and message in error_of(response)


# ------------------------------------------------------------------------------------------------- load limits
def test_full_queue_answers_503_and_slow_requests_504(model, model_dir):
    from remogpt.serve.app import create_app

    app = create_app(model_dir, model=model, limits=ServeLimits(max_pending=1))
    state = app.state.remogpt
    release = threading.Event()
    with TestClient(app) as client:
        held = state.model_jobs.submit(lambda items: [release.wait(10) for _ in items], None)
        response = client.post("/api/generate", json={"text": "a person walks"})
        assert response.status_code == 503 and response.headers["retry-after"] == "5"
        assert "busy" in error_of(response)
        release.set()
        held.result(5)
        assert client.get("/api/search", params={"q": "wave"}).status_code == 200  # the slot is free again
    app = create_app(model_dir, model=model, limits=ServeLimits(max_pending=4, request_timeout_s=0.3))
    with TestClient(app) as client:
        app.state.remogpt.model_jobs.submit(lambda items: [threading.Event().wait(1.0) for _ in items], None)
        response = client.get("/api/search", params={"q": "wave"})
        assert response.status_code == 504 and "0.3 s" in error_of(response)


def test_a_server_bug_answers_json_500_without_details(model, model_dir, monkeypatch):
    from remogpt.serve.app import create_app

    app = create_app(model_dir, model=model)

    def broken(_queries):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(app.state.remogpt.service, "search_batch", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/search", params={"q": "wave"})
    assert response.status_code == 500 and "RuntimeError" in error_of(response)
    assert "secret" not in response.text


# ------------------------------------------------------------------------------------------------- CLI
def test_serve_cli_argument_errors(run_cli, tmp_path):
    code, _, err = run_cli("serve", "--model", tmp_path / "missing")
    assert code == 2 and "does not exist" in err
    code, _, err = run_cli("serve", "--model", tmp_path, "--port", "70000")
    assert code == 2 and "--port" in err
    code, _, err = run_cli("serve", "--model", tmp_path, "--max-batch", "0")
    assert code == 2 and "--max-batch must be positive" in err
    code, _, err = run_cli("serve", "--model", tmp_path)
    assert code == 2 and "not a ReMoGPT model directory" in err
