"""`noroshi detect FILE.csv`: the production detector over a CSV, alerts as JSON; bad input exits 2."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from noroshi.cli import app
from tests.detectors.synthetic import make_series, ramp

runner = CliRunner()
DAYS = 8
SPIKE_ROW = 7 * 288 + 150  # day 8, 12:30 UTC (21:30 in Tokyo)


def _write(tmp_path, points, negative: bool = True):
    header = "timestamp,value,negative" if negative else "timestamp,count"
    rows = [
        f"{p.start.strftime('%Y-%m-%d %H:%M:%S')},{p.total}" + (f",{p.negative}" if negative else "")
        for p in points
    ]
    path = tmp_path / "series.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _run(*args: str):
    return runner.invoke(app, ["detect", *args])


def test_one_alert_at_the_spike_row(tmp_path):
    points = make_series(DAYS, 30.0, seed=4, multiplier=ramp(SPIKE_ROW, 1, 12.0, 24))
    result = _run(str(_write(tmp_path, points)), "--timezone", "Asia/Tokyo")
    assert result.exit_code == 0, result.output
    alerts = json.loads(result.stdout)["alerts"]
    assert len(alerts) == 1, alerts
    alert = alerts[0]
    assert alert["kind"] == "volume"
    # the row where the jump lands (naive CSV timestamps are read as UTC)
    assert datetime.fromisoformat(alert["at"]) == points[SPIKE_ROW].start
    assert alert["severity"] in {"warning", "flame"}  # 12× the expected volume
    assert alert["score"] >= 5.0


def test_quiet_series_gives_no_alerts_with_count_column(tmp_path):
    points = make_series(DAYS, 30.0, seed=5)
    result = _run(str(_write(tmp_path, points, negative=False)))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"alerts": []}


def test_bad_csv_is_a_clear_error_with_exit_code_2(tmp_path):
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [f"{(start + timedelta(minutes=5 * i)).isoformat()},{i}" for i in range(3)]
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,value\n" + "\n".join(rows) + "\n2024-01-01T00:20:00+00:00,many\n")
    result = _run(str(path))
    assert result.exit_code == 2
    assert "line 5" in result.output and "'many' is not a number" in result.output
    assert "alerts" not in result.output


def test_missing_count_column_and_missing_file(tmp_path):
    path = tmp_path / "nocount.csv"
    path.write_text("timestamp,total\n2024-01-01 00:00:00,3\n", encoding="utf-8")
    result = _run(str(path))
    assert result.exit_code == 2
    assert "missing count column 'value' or 'count'" in result.output
    result = _run(str(tmp_path / "absent.csv"))
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_an_unknown_holiday_calendar_is_named(tmp_path):
    points = make_series(DAYS, 30.0, seed=4)
    result = _run(str(_write(tmp_path, points)), "--holidays", "Nippon")
    assert result.exit_code == 2
    assert "unknown holiday calendar 'Nippon'" in result.output
    ok = _run(str(_write(tmp_path, points)), "--timezone", "Asia/Tokyo", "--holidays", "JP")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout) == {"alerts": []}


def test_bad_options_are_named_before_the_file_is_read(tmp_path):
    path = _write(tmp_path, make_series(DAYS, 30.0, seed=4))
    for option, value, message in [
        ("--timezone", "Mars/Base", "unknown timezone 'Mars/Base'"),
        ("--sensitivity", "paranoid", "'paranoid' is not one of 'low', 'normal', 'high'"),
        ("--holidays", "Nippon", "unknown holiday calendar 'Nippon'"),
        ("--bucket-minutes", "7", "bucket_minutes 7 does not divide a day"),
        ("--bucket-minutes", "0", "bucket_minutes 0 does not divide a day"),
    ]:
        result = _run(str(path), option, value)
        assert result.exit_code == 2, (option, result.output)
        flat = " ".join(result.output.replace("│", " ").split())
        assert f"Invalid value for '{option}'" in flat and message in flat, flat
        assert "Traceback" not in result.output


def test_a_directory_is_not_a_file(tmp_path):
    result = _run(str(tmp_path))
    assert result.exit_code == 2
    assert "not a file" in result.output


def test_an_off_cadence_row_is_named_and_nothing_is_printed(tmp_path):
    points = make_series(DAYS, 30.0, seed=4)
    path = _write(tmp_path, points)
    lines = path.read_text(encoding="utf-8").splitlines()
    shifted = points[100].start + timedelta(minutes=2)
    lines[101] = f"{shifted:%Y-%m-%d %H:%M:%S},{points[100].total},{points[100].negative}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _run(str(path))
    assert result.exit_code == 2
    assert "line 102" in result.output and "off the 5-minute cadence" in result.output
    assert "alerts" not in result.output


def test_a_sparse_file_names_the_option_that_gives_its_cadence(tmp_path):
    # a quiet brand's export that leaves out its empty buckets: most gaps are 10 min, a few 15
    start = datetime(2024, 1, 1, tzinfo=UTC)
    offsets = [0, 10, 20, 30, 45, 55, 65, 80, 90]
    rows = [f"{(start + timedelta(minutes=m)).isoformat()},3" for m in offsets]
    path = tmp_path / "sparse.csv"
    path.write_text("timestamp,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    refused = _run(str(path))
    assert refused.exit_code == 2
    assert "line 6" in refused.output and "off the 10-minute cadence" in refused.output
    assert "--bucket-minutes" in refused.output
    given = _run(str(path), "--bucket-minutes", "5")
    assert given.exit_code == 0, given.output
    assert json.loads(given.stdout) == {"alerts": []}


def test_evidence_says_why_each_alert_fired_and_how_it_grew(tmp_path):
    # a 12× jump held for two hours: it opens at the first bucket and escalates as the window fills
    points = make_series(DAYS, 30.0, seed=4, multiplier=ramp(SPIKE_ROW, 1, 12.0, 24))
    path = _write(tmp_path, points)
    plain = json.loads(_run(str(path), "--timezone", "Asia/Tokyo").stdout)["alerts"]
    result = _run(str(path), "--timezone", "Asia/Tokyo", "--evidence")
    assert result.exit_code == 0, result.output
    alerts = json.loads(result.stdout)["alerts"]
    # the same alerts, each with its evidence added
    assert [{k: a[k] for k in ("at", "kind", "severity", "score")} for a in alerts] == plain
    why = alerts[0]["evidence"]
    assert why["test"].startswith("nb_tail_")
    assert why["observed"] > why["upper"] > why["expected"] > 0
    assert 0.0 <= why["negative_share"] <= 1.0 and 0.0 <= why["baseline_share"] <= 1.0
    assert alerts[0]["updates"], "the 12× jump grows past its first bucket's severity"
    for update in alerts[0]["updates"]:
        assert update["change"] in {"escalation", "new_wave"}
        assert update["at"] > alerts[0]["at"]
    severities = [alerts[0]["severity"], *(u["severity"] for u in alerts[0]["updates"])]
    ranks = ["attention", "warning", "flame"]
    assert [ranks.index(s) for s in severities] == sorted(ranks.index(s) for s in severities)
    assert severities[-1] != severities[0]


def test_evidence_leaves_out_shares_when_the_file_has_no_negative_counts(tmp_path):
    points = make_series(DAYS, 30.0, seed=4, multiplier=ramp(SPIKE_ROW, 1, 12.0, 24))
    result = _run(str(_write(tmp_path, points, negative=False)), "--evidence")
    assert result.exit_code == 0, result.output
    why = json.loads(result.stdout)["alerts"][0]["evidence"]
    assert set(why) == {"test", "observed", "expected", "upper"}
