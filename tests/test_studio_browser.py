"""resonator studio in a real browser: Debian's Chromium, headless, driven by selenium.

Every scenario of the studio issue, checked on what the page shows (DOM, the timeline's data,
screenshot pixels) against answers computed by the library. Screenshots are kept in
``build/studio-screenshots/`` (``STUDIO_SCREENSHOTS`` to change). Without Chromium these tests
are skipped with the reason (and the run says how many browser tests ran); on CI (``CI`` set)
a missing Chromium fails them.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from resonator.studio import Studio, diagnose

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SHORT = Path(__file__).parent / "data" / "studio" / "short.toml"
SHOTS = Path(os.environ.get("STUDIO_SCREENSHOTS", ROOT / "build" / "studio-screenshots"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
RED = (214, 45, 32)
GREEN = (46, 157, 70)
TEMP = (224, 123, 0)
AMBER = (224, 161, 0)


def _need_browser():
    missing = [p for p in (CHROMIUM, DRIVER) if not os.path.exists(p)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip install -e '.[test]')")
    if missing:
        msg = f"Chromium not available ({', '.join(missing)}): apt-get install chromium chromium-driver"
        if os.environ.get("CI"):
            pytest.fail("on CI the browser tests must run: " + msg)
        pytest.skip(msg)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The served folder: a shipped recipe, the short test recipe, a doctored render."""
    from resonator.recipe.render import render_recipe

    d = tmp_path_factory.mktemp("studio")
    shutil.copy(ROOT / "recipes" / "mettannealing.toml", d / "mettannealing.toml")
    shutil.copy(SHORT, d / "short.toml")
    shutil.copy(SHORT.with_name("warm.toml"), d / "warm.toml")
    (d / "seq.sbg").write_text("## two tones\nalpha: 200+10/40 pink/20\nbeta: 200+4/40 pink/20\n"
                               "NOW alpha\n+00:01:00 beta\n")
    # a doctored render: the "low" phase beats at 6 Hz instead of the recipe's 5 Hz
    variant = d / ".variant.toml"
    variant.write_text(SHORT.read_text().replace('low = "5 Hz"', 'low = "6 Hz"'))
    render_recipe(variant, d / "doctored.wav")
    variant.unlink()
    (d / "doctored.json").unlink()
    return d


@pytest.fixture(scope="module")
def studio(folder):
    _need_browser()
    s = Studio(folder)
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def driver(studio):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="studio-chromium-")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                "--autoplay-policy=no-user-gesture-required", "--force-device-scale-factor=1",
                f"--user-data-dir={profile}", "--window-size=1500,950"):
        opts.add_argument(arg)
    d = webdriver.Chrome(service=Service(DRIVER), options=opts)
    d.set_script_timeout(30)
    d.downloads = Path(profile) / "downloads"
    d.downloads.mkdir()
    d.execute_cdp_cmd("Browser.setDownloadBehavior",
                      {"behavior": "allow", "downloadPath": str(d.downloads)})
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield d
    d.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait(driver, script, timeout=30.0, what="", args=()):
    """Poll a JS expression until it is truthy; return its value."""
    end = time.monotonic() + timeout
    while True:
        value = driver.execute_script(f"return ({script});", *args)
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what or script}")
        time.sleep(0.05)


def shot(driver, name) -> np.ndarray:
    """Save a screenshot and return it as an RGB array (CSS pixels: device scale 1)."""
    from PIL import Image

    png = driver.get_screenshot_as_png()
    (SHOTS / f"{name}.png").write_bytes(png)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def near(img, colour, tol=40) -> np.ndarray:
    return np.all(np.abs(img - np.array(colour)) <= tol, axis=-1)


def open_file(driver, studio, name):
    driver.get(f"http://127.0.0.1:{studio.port}/?token={studio.token}&file={name}")
    wait(driver, "document.body.dataset.ready === '1' && window.studio.lastDiagnose", what="page")
    wait(driver, "studio.series !== null", what="timeline")


def diagnosed(driver, text):
    """The page's diagnostics once they are about ``text`` (what the editor holds)."""
    assert driver.execute_script("return studio.view.state.doc.toString()") == text
    return wait(driver, "studio.lastDiagnosedText === arguments[0] && studio.lastDiagnose",
                what="diagnostics of the typed text", args=(text,))


def replace_line(driver, old, new):
    """Select ``old`` in the editor and type ``new`` over it with the keyboard."""
    from selenium.webdriver.common.action_chains import ActionChains

    ok = driver.execute_script("""
        const v = studio.view, text = v.state.doc.toString(), i = text.indexOf(arguments[0]);
        if (i < 0) return false;
        v.focus(); v.dispatch({selection: {anchor: i, head: i + arguments[0].length}});
        return true;""", old)
    assert ok, old
    ActionChains(driver).send_keys(new).perform()


def timeline_box(driver):
    return driver.execute_script("""
        const r = document.getElementById('timeline').getBoundingClientRect();
        const lanes = studio.timeline.lanes.map(l => ({kind: l.kind, index: l.index, y: l.y, h: l.h}));
        return {left: r.left, top: r.top, lanes};""")


def lane(box, kind, index=None):
    return next(x for x in box["lanes"] if x["kind"] == kind and (index is None or x["index"] == index))


def x_of(driver, t):
    return driver.execute_script("return studio.timeline.timeToX(arguments[0]);", t)


def hover(driver, box, x, y):
    from selenium.webdriver.common.action_chains import ActionChains

    canvas = driver.find_element("id", "timeline")
    r = canvas.rect
    ActionChains(driver).move_to_element_with_offset(
        canvas, int(x - r["width"] / 2), int(y - r["height"] / 2)).perform()
    return wait(driver, "!document.getElementById('tooltip').hidden && "
                "document.getElementById('tooltip').textContent", what="tooltip")


# ------------------------------------------------------------------ the scenarios
def test_typo_shows_its_diagnostic_and_the_fix_updates_the_timeline(driver, studio, folder):
    open_file(driver, studio, "mettannealing.toml")
    # offline: everything the page loaded came from the studio itself
    origin = f"http://127.0.0.1:{studio.port}/"
    loaded = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert any("codemirror.min.js" in u for u in loaded)
    assert [u for u in loaded if not u.startswith(origin)] == []
    text = (folder / "mettannealing.toml").read_text()
    box = timeline_box(driver)
    beat_lane = lane(box, "layer", 3)
    tip = hover(driver, box, x_of(driver, 1230.0), beat_lane["y"] + beat_lane["h"] / 2)
    assert abs(driver.execute_script("return studio.timeline.hover.t") - 1230.0) < 5  # a pixel
    assert "metta\ntemperature 0.900\nbeat (binaural): sounding" in tip, tip
    img = shot(driver, "01-open-mettannealing")  # (the README's picture)
    temp = lane(box, "temperature")
    rows = slice(int(box["top"] + temp["y"]), int(box["top"] + temp["y"] + temp["h"]))
    assert near(img[rows], TEMP).sum() > 200  # the temperature curve is drawn

    # the typo: carrier -> carier, at its line
    line = text.splitlines().index('carrier = "220 Hz"') + 1
    replace_line(driver, 'carrier = "220 Hz"', 'carier = "220 Hz"')
    typo = text.replace('carrier = "220 Hz"', 'carier = "220 Hz"')
    res = diagnosed(driver, typo)
    expected = diagnose(folder / "mettannealing.toml", typo, root=folder)["diagnostics"]
    assert expected[0]["message"].startswith("mettannealing.toml:")  # named as in the folder
    assert [d["message"] for d in res["diagnostics"]] == [d["message"] for d in expected]
    assert "unknown key 'carier'" in expected[0]["message"]
    marks = driver.execute_script("return studio.lintLines()")
    assert [(m["line"], m["severity"]) for m in marks] == [(line, "error")]
    panel = driver.find_element("css selector", "#diagnostics .error")
    assert panel.text == "error: " + expected[0]["message"]
    img = shot(driver, "02-typo-diagnostic")
    pos = driver.execute_script("""
        const v = studio.view, l = v.state.doc.line(arguments[0]), c = v.coordsAtPos(l.from);
        const g = document.querySelector('.cm-gutter-lint').getBoundingClientRect();
        return {top: c.top, bottom: c.bottom, left: g.left, right: g.right};""", line)
    marker = img[int(pos["top"]):int(pos["bottom"]), int(pos["left"]):int(pos["right"])]
    assert (near(marker, (221, 17, 17), 70)).sum() > 10  # the red error marker at that line
    assert near(img[rows], TEMP).sum() < 60  # the stale timeline is washed out

    # the fix (with another carrier): the diagnostic goes, the timeline shows the new plan
    replace_line(driver, 'carier = "220 Hz"', 'carrier = "230 Hz"')
    fixed = text.replace('carrier = "220 Hz"', 'carrier = "230 Hz"')
    res = diagnosed(driver, fixed)
    assert res["ok"] and res["diagnostics"] == []
    assert driver.execute_script("return studio.lintLines().length") == 0
    want = diagnose(folder / "mettannealing.toml", fixed, points=600)["series"]
    beat = next(i for i, la in enumerate(want["layers"]) if la["name"] == "beat")
    img = shot(driver, "03-fixed")
    assert near(img[rows], TEMP).sum() > 200
    box = timeline_box(driver)
    ln = lane(box, "layer", beat)
    t = 20 * 60.0
    tip = hover(driver, box, x_of(driver, t), ln["y"] + ln["h"] / 2)
    t = driver.execute_script("return studio.timeline.hover.t")  # the pointer's time
    params = {p["name"]: p for p in want["layers"][beat]["params"]}
    b = np.interp(t, want["t"], params["beat"]["values"])
    assert "carrier 230 Hz" in tip
    assert f"beat {float(f'{b:.4g}'):g} Hz" in tip, tip
    shot(driver, "04-hover")


def test_save_writes_the_edited_text(driver, studio, folder):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    path = folder / "mettannealing.toml"
    original = path.read_bytes()
    wanted = driver.execute_script("return studio.view.state.doc.toString()")
    assert wanted != original.decode()  # the edit of the test above is still in the editor
    assert "dirty" in driver.find_element("id", "file-name").get_attribute("class")
    ActionChains(driver).key_down(Keys.CONTROL).send_keys("s").key_up(Keys.CONTROL).perform()
    wait(driver, "!document.getElementById('file-name').classList.contains('dirty')", what="save")
    assert path.read_bytes() == wanted.encode("utf-8")
    assert path.read_bytes() == original.replace(b'carrier = "220 Hz"', b'carrier = "230 Hz"')


def test_render_and_check_draw_spans_and_a_doctored_render_shows_red(driver, studio, folder):
    open_file(driver, studio, "short.toml")
    driver.find_element("id", "render-btn").click()
    wait(driver, "document.getElementById('check-file').value === 'renders/short.wav'",
         timeout=120, what="the render, offered for checking")
    assert "render done" in driver.find_element("id", "job-label").text
    assert (folder / "renders" / "short.wav").exists()
    driver.find_element("id", "check-btn").click()
    wait(driver, "studio.report && studio.report.file === 'renders/short.wav'", timeout=120,
         what="check")
    report = driver.execute_script("return studio.report")
    assert report["passed"] and len(report["results"]) >= 5
    img = shot(driver, "05-render-check")
    box = timeline_box(driver)
    checks = lane(box, "checks")
    rows = slice(int(box["top"] + checks["y"]), int(box["top"] + checks["y"] + checks["h"]))
    assert near(img[rows], GREEN, 25).sum() > 500 and near(img[rows], RED, 25).sum() == 0

    # the doctored render: its "low" phase beats at 6 Hz, not 5 Hz
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element("id", "check-file")).select_by_value("doctored.wav")
    driver.find_element("id", "check-btn").click()
    wait(driver, "studio.report && studio.report.file === 'doctored.wav'", timeout=120,
         what="check of the doctored render")
    report = driver.execute_script("return studio.report")
    failed = [r for r in report["results"] if not r["passed"]]
    assert failed and all(r["kind"] == "binaural_beat" for r in failed)
    assert all(r["window"]["start_s"] >= 16.0 and abs(r["measured"] - 6.0) < 0.05 for r in failed)
    img = shot(driver, "06-doctored-red")
    box = timeline_box(driver)
    checks = lane(box, "checks")
    rows = slice(int(box["top"] + checks["y"]), int(box["top"] + checks["y"] + checks["h"]))
    red = near(img[rows], RED, 25)
    cols = np.nonzero(red.any(axis=0))[0]
    assert red.sum() > 100
    x16 = box["left"] + x_of(driver, 16.0)
    x32 = box["left"] + x_of(driver, 32.0)
    assert cols.min() >= x16 - 1 and cols.max() <= x32 + 1  # red only over the "low" phase
    span = next(s for s in driver.execute_script("return studio.spans") if s["status"] == "fail")
    tip = hover(driver, box, x_of(driver, (span["start_s"] + span["end_s"]) / 2),
                checks["y"] + 8 + span["_row"] * 12 + 4)
    assert "FAIL binaural_beat" in tip and "measured 6 Hz, expected 5 Hz" in tip, tip
    # the report downloads as JSON (what resonator check --json writes, names as the page's)
    driver.find_element("id", "json-btn").click()
    saved = driver.downloads / "doctored-check.json"
    end = time.monotonic() + 20
    while not saved.exists() and time.monotonic() < end:
        time.sleep(0.1)
    assert json.loads(saved.read_text()) == report
    # only the view: a window render, checked where it lies in the session
    driver.execute_script("studio.timeline.setView(20, 30)")
    driver.find_element("id", "render-view").click()
    driver.find_element("id", "render-btn").click()
    wait(driver, "document.getElementById('check-file').value === 'renders/short_20s-30s.wav'",
         timeout=120, what="the window render")
    driver.find_element("id", "check-btn").click()
    wait(driver, "studio.report && studio.report.file === 'renders/short_20s-30s.wav'",
         timeout=120, what="check of the window")
    assert driver.execute_script("return studio.report.offset_s") == 20.0
    driver.execute_script("studio.timeline.setView(0, 32)")
    img = shot(driver, "06a-window-check")
    box = timeline_box(driver)
    checks = lane(box, "checks")
    rows = slice(int(box["top"] + checks["y"]), int(box["top"] + checks["y"] + checks["h"]))
    cols = np.nonzero(near(img[rows], GREEN, 25).any(axis=0))[0]
    assert len(cols) > 50
    assert box["left"] + x_of(driver, 20.0) - 1 <= cols.min() and \
        cols.max() <= box["left"] + x_of(driver, 30.0) + 1  # passes only inside the window
    driver.find_element("id", "render-view").click()  # (back to whole renders)
    # an inconclusive reading is drawn amber, with its reason on hover
    driver.execute_script("""
        const s = {...arguments[0], status: 'inconclusive', reason: 'the noise bed covers the band'};
        showReport({report: studio.report, spans: [s]});""", span)
    img = shot(driver, "06b-inconclusive")
    box = timeline_box(driver)
    checks = lane(box, "checks")
    rows = slice(int(box["top"] + checks["y"]), int(box["top"] + checks["y"] + checks["h"]))
    assert near(img[rows], AMBER, 25).sum() > 100 and near(img[rows], RED, 25).sum() == 0
    tip = hover(driver, box, x_of(driver, (span["start_s"] + span["end_s"]) / 2),
                checks["y"] + 8 + 4)
    assert "INCONCLUSIVE binaural_beat" in tip and "the noise bed covers the band" in tip, tip


def test_zoom_resamples_the_window_and_keys_complete(driver, studio):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    open_file(driver, studio, "short.toml")
    box = timeline_box(driver)
    ln = lane(box, "layer", 0)
    # zoom in around 17 s (the beat's glide from 8 to 5 Hz, 16-18 s) with the wheel
    driver.execute_script("""
        const c = document.getElementById('timeline'), r = c.getBoundingClientRect();
        const x = r.left + studio.timeline.timeToX(17);
        for (let i = 0; i < 6; i++)
          c.dispatchEvent(new WheelEvent('wheel', {deltaY: -400, clientX: x, clientY: r.top + 60, bubbles: true}));""")
    v0, v1 = driver.execute_script("return [studio.timeline.v0, studio.timeline.v1]")
    assert v0 < 17.0 < v1 and v1 - v0 == pytest.approx(2.0)  # the narrowest view: 2 s
    detail = wait(driver, "studio.timeline.detail", what="the window's samples")
    assert detail["t"][0] == pytest.approx(v0) and detail["t"][-1] == pytest.approx(v1)
    assert len(detail["t"]) == 800
    tip = hover(driver, box, x_of(driver, 17.0), ln["y"] + ln["h"] / 2)
    t = driver.execute_script("return studio.timeline.hover.t")  # the pointer's time
    minutes, seconds = tip.split()[0].split(":")
    assert 60 * int(minutes) + float(seconds) == pytest.approx(t, abs=5e-4)  # shown to the ms
    beat = 8.0 - 1.5 * (t - 16.0)  # 8 -> 5 Hz linearly over 16-18 s
    assert f"beat {float(f'{beat:.4g}'):g} Hz" in tip, tip
    shot(driver, "07-zoomed")
    # the keyboard: 0 shows all, + halves the view around the playhead, arrows pan
    canvas = driver.find_element("id", "timeline")
    driver.execute_script("studio.timeline.setPlayhead(8); arguments[0].focus();", canvas)
    canvas.send_keys("0")
    assert driver.execute_script("return [studio.timeline.v0, studio.timeline.v1]") == [0, 32]
    canvas.send_keys("+")
    assert driver.execute_script("return [studio.timeline.v0, studio.timeline.v1]") == [4, 20]
    canvas.send_keys(Keys.ARROW_RIGHT)
    assert driver.execute_script("return [studio.timeline.v0, studio.timeline.v1]") == \
        pytest.approx([5.6, 21.6])
    # key completion from the recipe schema, for the layer kind under the cursor
    driver.execute_script("""
        const v = studio.view, i = v.state.doc.toString().indexOf('kind = "binaural"') + 17;
        v.focus(); v.dispatch({selection: {anchor: i}});""")
    ActionChains(driver).send_keys(Keys.ENTER, "ca").perform()
    options = wait(driver, "document.querySelector('.cm-tooltip-autocomplete') && "
                   "[...document.querySelectorAll('.cm-completionLabel')].map(e => e.textContent)",
                   what="completions")
    assert "carrier" in options and "color" not in options  # binaural keys, not noise's
    # unsaved changes are guarded: opening another file asks first
    typed = driver.execute_script("return studio.view.state.doc.toString()")
    driver.find_element("css selector", '#files a[data-path="mettannealing.toml"]').click()
    alert = driver.switch_to.alert
    assert "unsaved changes" in alert.text
    alert.dismiss()
    assert driver.execute_script("return studio.file.path") == "short.toml"
    assert driver.execute_script("return studio.view.state.doc.toString()") == typed
    driver.find_element("css selector", '#files a[data-path="mettannealing.toml"]').click()
    driver.switch_to.alert.accept()
    wait(driver, "studio.file.path === 'mettannealing.toml'", what="the other file")


def captured(driver, at_s, seconds, timeout=60.0):
    """The PCM the page's audio path received since it started playing at about ``at_s`` (a
    click lands on a pixel), once it holds ``seconds`` of it: (first frame's session time,
    sample rate, array (frames, 2))."""
    import base64

    wait(driver, f"studioAudio.capture && Math.abs(studioAudio.capture.at_s - {at_s}) < 0.1 "
                 f"&& studioAudio.capture.frames >= {seconds} * studioAudio.sr",
         timeout=timeout, what=f"{seconds} s of audio from about {at_s} s")
    c = driver.execute_script("return studioAudio.captured()")
    x = np.frombuffer(base64.b64decode(c["data"]), dtype=np.float32).reshape(-1, 2)
    return c["t0"], c["sr"], x


def beat_of(x, sr, carrier=250.0):
    """Binaural beat of stereo audio: left peak minus right peak (never on a mono sum)."""
    from conftest import peak_hz

    lo, hi = carrier - 30, carrier + 30
    return peak_hz(x[:, 0], sr, lo, hi) - peak_hz(x[:, 1], sr, lo, hi)


def click_timeline(driver, t, lane_kind="temperature"):
    from selenium.webdriver.common.action_chains import ActionChains

    box = timeline_box(driver)
    ln = lane(box, lane_kind)
    canvas = driver.find_element("id", "timeline")
    r = canvas.rect
    ActionChains(driver).move_to_element_with_offset(
        canvas, int(x_of(driver, t) - r["width"] / 2),
        int(ln["y"] + ln["h"] / 2 - r["height"] / 2)).click().perform()


def test_live_audio_from_any_point_is_the_render(driver, studio, folder):
    import soundfile as sf

    from resonator.recipe.render import render_recipe

    # a float render first: it also stores the mastering stage the player then uses
    ref = folder / ".ref" / "short.wav"
    render_recipe(folder / "short.toml", ref, bits="32f", make_parents=True)
    render, sr = sf.read(ref, dtype="float32")
    open_file(driver, studio, "short.toml")
    click_timeline(driver, 6.0)  # a click on the timeline plays from there
    t0, rate, x = captured(driver, 6.0, 2.5)
    assert rate == sr
    assert beat_of(x[1600:], sr) == pytest.approx(8.0, abs=0.05)  # the "high" phase's beat
    # the same samples as the render (after the player's 10 ms fade-in)
    skip, first = int(0.02 * sr), int(round(t0 * sr))
    assert np.max(np.abs(x[skip:] - render[first + skip:first + len(x)])) < 1e-6
    # a click while it plays jumps there
    click_timeline(driver, 24.0)
    t0, rate, x = captured(driver, 24.0, 2.5)
    assert beat_of(x[1600:], sr) == pytest.approx(5.0, abs=0.05)  # the "low" phase's beat
    first = int(round(t0 * sr))
    assert np.max(np.abs(x[skip:] - render[first + skip:first + len(x)])) < 1e-6
    playhead = wait(driver, f"studio.timeline.playhead > {t0} + 0.5 && studio.timeline.playhead")
    assert playhead < t0 + len(x) / sr  # the playhead follows what is heard
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(" ").perform()  # Space pauses: the playhead stops
    wait(driver, "studioAudio.paused")
    assert driver.find_element("id", "play-btn").text == "▶ Play"
    time.sleep(0.3)
    playhead = driver.execute_script("return studio.timeline.playhead")
    img = shot(driver, "08-paused")
    box = timeline_box(driver)
    col = int(round(box["left"] + x_of(driver, playhead)))
    assert near(img[:, col - 2:col + 3], (61, 111, 182), 30).sum() > 100  # the playhead line
    assert driver.execute_script("return studio.timeline.playhead") == playhead


def test_the_temperature_slider_changes_the_beat(driver, studio, folder):
    from selenium.webdriver.common.keys import Keys

    open_file(driver, studio, "warm.toml")
    # the design lint about the frozen binding is shown at its line
    lint = driver.execute_script("return studio.lastDiagnose.diagnostics")
    assert [(d["line"], d["severity"], d["source"]) for d in lint] == [(20, "warning", "lint")]
    click_timeline(driver, 10.0)
    t0, sr, x = captured(driver, 10.0, 2.0)
    assert beat_of(x[1600:], sr) == pytest.approx(8.0, abs=0.05)  # T 0.5: 4 + 8 * 0.5
    slider = driver.find_element("id", "temp-slider")
    slider.send_keys(*[Keys.ARROW_RIGHT] * 5)  # +0.05 each
    assert driver.find_element("id", "temp-value").text == "+0.25"
    wait(driver, "document.getElementById('temp-heard').textContent.startsWith('T 0.75')",
         what="the heard temperature")
    assert driver.find_element("id", "temp-heard").text == "T 0.75 (plan 0.50)"
    # after the 2 s glide (and the second of audio buffered ahead) the beat is 4 + 8 * 0.75
    frames = driver.execute_script("return studioAudio.capture.frames")
    t0, sr, x = captured(driver, 10.0, frames / 16000 + 5.0)
    assert beat_of(x[-int(1.5 * sr):], sr) == pytest.approx(10.0, abs=0.05)
    # the heard temperature is a dot at the playhead, above the planned 0.5
    assert driver.execute_script("return studio.timeline.heard") == pytest.approx(0.75)
    before = driver.execute_script("return studio.timeline.playhead")
    img = shot(driver, "09-temperature")
    after = driver.execute_script("return studio.timeline.playhead")
    box = timeline_box(driver)
    ln = lane(box, "temperature")
    y = int(box["top"] + ln["y"] + 6 + 0.25 * (ln["h"] - 12))
    x0 = int(box["left"] + x_of(driver, 0.0))  # (the plot, not the lane's label)
    dot = near(img[y - 3:y + 4, x0:], TEMP, 30).any(axis=0)
    cols = np.nonzero(dot)[0] + x0
    assert len(cols) and box["left"] + x_of(driver, before) - 7 <= cols.min() and \
        cols.max() <= box["left"] + x_of(driver, after) + 7, (cols, before, after)


def test_a_sequence_converts_and_a_new_recipe_starts_from_the_starter(driver, studio, folder):
    from resonator.sbg.convert import convert_file
    from resonator.studio.workspace import STARTER

    open_file(driver, studio, "seq.sbg")
    assert driver.execute_script("return studio.lastDiagnose.ok")  # an .sbg has diagnostics too
    assert driver.find_element("id", "import-btn").is_displayed()
    driver.find_element("id", "import-btn").click()
    wait(driver, "studio.file && studio.file.path === 'seq.toml' && studio.series",
         what="the converted recipe")
    assert (folder / "seq.toml").read_text() == convert_file(folder / "seq.sbg").toml
    assert driver.execute_script("return studio.view.state.doc.toString()") == \
        (folder / "seq.toml").read_text()
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    def new(name, template=None):
        driver.find_element("id", "new-btn").click()
        wait(driver, "document.getElementById('new-dialog').open", what="the New dialog")
        if template:
            Select(driver.find_element("id", "new-template")).select_by_value(template)
        driver.find_element("id", "new-name").send_keys(name, Keys.ENTER)

    new("fresh")  # the starter by default
    wait(driver, "studio.file && studio.file.path === 'fresh.toml' && studio.series",
         what="the new recipe")
    assert (folder / "fresh.toml").read_bytes() == STARTER.read_bytes()
    assert not driver.execute_script("return document.getElementById('new-dialog').open")
    new("fresh", "short.toml")  # a taken name: said in the dialog, nothing written
    error = wait(driver, "document.getElementById('new-error').textContent", what="the error")
    assert error == "fresh.toml exists already: choose another name"
    shot(driver, "10-new-dialog")
    assert (folder / "fresh.toml").read_bytes() == STARTER.read_bytes()
    driver.find_element("id", "new-name").clear()
    driver.find_element("id", "new-name").send_keys("from-short", Keys.ENTER)
    wait(driver, "studio.file && studio.file.path === 'from-short.toml' && studio.series",
         what="the recipe from a template")
    assert (folder / "from-short.toml").read_bytes() == (folder / "short.toml").read_bytes()
    assert [f.get_attribute("data-path") for f in
            driver.find_elements("css selector", "#files a")] == \
        ["fresh.toml", "from-short.toml", "mettannealing.toml", "seq.sbg", "seq.toml",
         "short.toml", "warm.toml"]


def test_without_a_folder_shipped_recipes_are_copied_on_save(driver, tmp_path, monkeypatch):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    from resonator.shipped import recipes_dir

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    user = tmp_path / "resonator" / "recipes"
    with Studio() as s:  # no folder: the shipped recipes, copied on write
        driver.get(f"http://127.0.0.1:{s.port}/?token={s.token}&file=mettannealing-hot.toml")
        wait(driver, "document.body.dataset.ready === '1' && studio.lastDiagnose && studio.series",
             what="the shipped recipe")
        # it extends mettannealing.toml, which only the shipped folder holds: found there
        assert driver.execute_script("return studio.lastDiagnose.diagnostics") == []
        groups = driver.execute_script(
            "return [...document.querySelectorAll('#files h4')].map(h => h.textContent)")
        assert groups == ["shipped"]
        shipped = recipes_dir() / "mettannealing-hot.toml"
        original = shipped.read_bytes()
        driver.execute_script("studio.view.focus(); studio.view.dispatch({selection: {anchor: 0}});")
        ActionChains(driver).send_keys("# mine", Keys.ENTER).perform()
        ActionChains(driver).key_down(Keys.CONTROL).send_keys("s").key_up(Keys.CONTROL).perform()
        wait(driver, "document.querySelector('#files a.current:not(.shipped)')", what="the copy")
        assert (user / "mettannealing-hot.toml").read_bytes() == b"# mine\n" + original
        assert (user / "mettannealing.toml").read_bytes() == \
            (recipes_dir() / "mettannealing.toml").read_bytes()  # what it extends came along
        assert shipped.read_bytes() == original
        assert "mettannealing.toml" in driver.find_element("id", "status").text
        assert driver.execute_script(
            "return [...document.querySelectorAll('#files h4')].map(h => h.textContent)") == \
            ["your recipes", "shipped"]
        shot(driver, "11-shipped-copy")
