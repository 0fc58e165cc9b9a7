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
