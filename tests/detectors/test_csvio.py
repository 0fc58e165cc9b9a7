"""Series CSV reading and alert JSON."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from detectors import DetectorConfig, Signal, replay
from detectors.csvio import alerts_json, read_series_csv
from tests.detectors.synthetic import make_series, ramp


def write(tmp_path, text: str):
    path = tmp_path / "series.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_nab_format(tmp_path):
    path = write(
        tmp_path, "timestamp,value\n2015-02-26 21:42:53,104\n2015-02-26 21:47:53,100\n2015-02-26 21:52:53,7\n"
    )
    points, minutes = read_series_csv(path)
    assert minutes == 5
    assert points[0].start == datetime(2015, 2, 26, 21, 42, 53, tzinfo=UTC)
    assert [p.total for p in points] == [104, 100, 7]


def test_reads_count_and_negative_with_offsets(tmp_path):
    text = "timestamp,count,negative\n2024-01-01T09:00:00+09:00,10,2\n2024-01-01T09:15:00+09:00,12,3\n"
    points, minutes = read_series_csv(write(tmp_path, text))
    assert minutes == 15
    assert points[0].start == datetime(2024, 1, 1, 0, 0, tzinfo=UTC)
    assert (points[1].total, points[1].negative) == (12, 3)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time,value\n2024-01-01 00:00:00,1\n", "missing column 'timestamp'"),
        ("timestamp,n\n2024-01-01 00:00:00,1\n", "'value' or 'count'"),
        ("timestamp,value\n2024-01-01 00:00:00,abc\n", "line 2: value 'abc'"),
        ("timestamp,value\nyesterday,1\n", "line 2: timestamp 'yesterday'"),
        ("timestamp,value\n2024-01-01 00:05:00,1\n2024-01-01 00:00:00,1\n", "line 3"),
        ("timestamp,value,negative\n2024-01-01 00:00:00,1,2\n", "exceeds"),
        ("timestamp,value\n", "no data rows"),
        ("timestamp,value\n2024-01-01 00:00:00,inf\n", "line 2: value 'inf' is not a non-negative whole"),
        ("timestamp,value\n2024-01-01 00:00:00,nan\n", "line 2: value 'nan' is not a non-negative whole"),
        ("timestamp,value\n2024-01-01 00:00:00,1e30\n", r"line 2: value '1e30' is more than 9,007,199,254"),
        # a row between buckets would be folded into its neighbour's bucket: named, not silently merged
        (
            "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,1\n2024-01-01 00:07:00,1\n"
            "2024-01-01 00:12:00,1\n",
            "line 4: timestamp 2024-01-01T00:07:00[+]00:00 is off the 5-minute cadence",
        ),
        (
            "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:07:00,1\n2024-01-01 00:14:00,1\n",
            "7 minutes apart, which does not divide a day",
        ),
    ],
)
def test_errors_name_the_problem(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        read_series_csv(write(tmp_path, text))


def test_line_numbers_count_blank_lines_and_missing_buckets_are_allowed(tmp_path):
    text = "timestamp,value\n2024-01-01 00:00:00,1\n\n2024-01-01 00:15:00,2\n2024-01-01 00:20:00,x\n"
    with pytest.raises(ValueError, match="line 5: value 'x'"):
        read_series_csv(write(tmp_path, text))
    gap = "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:15:00,2\n2024-01-01 00:20:00,3\n"
    gap += "2024-01-01 00:25:00,4\n"
    points, minutes = read_series_csv(write(tmp_path, gap))
    assert minutes == 5 and [p.total for p in points] == [1, 2, 3, 4]


def test_a_file_that_is_not_utf8_is_named_as_such(tmp_path):
    path = tmp_path / "series.csv"
    path.write_bytes("timestamp,value\n2024-01-01 00:00:00,1\n".encode("utf-16"))
    with pytest.raises(ValueError, match="not UTF-8 text"):
        read_series_csv(path)


def test_alerts_json_lists_new_events_only():
    at = datetime(2024, 1, 1, tzinfo=UTC)
    new = Signal(at, "volume", "warning", 6.5, 100, 20, 40, "nb_tail_15m")
    up = Signal(at, "volume", "flame", 9.0, 300, 20, 40, "nb_tail_15m", escalation=True)
    assert alerts_json([new, up]) == {
        "alerts": [{"at": "2024-01-01T00:00:00+00:00", "kind": "volume", "severity": "warning", "score": 6.5}]
    }


def test_csv_round_trip_to_alerts(tmp_path):
    points = make_series(10, 20, seed=41, multiplier=ramp(8 * 288 + 100, 1, 6.0, 4))
    lines = ["timestamp,value"] + [f"{p.start:%Y-%m-%d %H:%M:%S},{p.total}" for p in points]
    read, minutes = read_series_csv(write(tmp_path, "\n".join(lines) + "\n"))
    alerts = alerts_json(replay(read, DetectorConfig(bucket_minutes=minutes)))["alerts"]
    assert [a["at"] for a in alerts] == [points[8 * 288 + 100].start.isoformat()]


def test_alerts_json_with_evidence_hangs_escalations_and_waves_on_their_event():
    at = datetime(2024, 1, 1, tzinfo=UTC)
    later = datetime(2024, 1, 1, 0, 5, tzinfo=UTC)
    volume = Signal(at, "volume", "warning", 6.5, 100, 20, 40, "nb_tail_15m")
    tone = Signal(at, "negativity", "attention", 5.2, 30, 10, 25, "share_1h", 0.4, 0.1)
    grew = Signal(later, "volume", "flame", 9.0, 300, 20, 40, "nb_tail_15m", escalation=True)
    wave = Signal(later, "negativity", "attention", 5.9, 35, 10, 25, "share_1h", 0.5, 0.1, True, True)
    out = alerts_json([volume, tone, grew, wave], evidence=True)["alerts"]
    assert [(a["kind"], [u["change"] for u in a["updates"]]) for a in out] == [
        ("volume", ["escalation"]),
        ("negativity", ["new_wave"]),
    ]
    assert out[1]["evidence"] == {
        "test": "share_1h",
        "observed": 30,
        "expected": 10,
        "upper": 25,
        "negative_share": 0.4,
        "baseline_share": 0.1,
    }
    assert out[0]["updates"][0]["severity"] == "flame"
    assert "evidence" not in alerts_json([volume])["alerts"][0]
