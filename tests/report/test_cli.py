"""cern-ai-bench-report end to end through main([...]): files written, warnings, exit codes."""

from __future__ import annotations

import json

import pytest

from cern_ai_bench.bench.report.cli import main


def test_reference_report_end_to_end(reference_report, reference_dir):
    out = reference_report["out"]
    names = {p.name for p in out.iterdir()}
    assert {"report.md", "report.html", "throughput_vs_batch.png", "quality_vs_speed.png"} <= names
    files = {p: json.loads(p.read_text()) for p in reference_dir.rglob("*.json")}
    records = [p for p, data in files.items() if isinstance(data, dict)]
    assert f"{len(records)} records, " in reference_report["stdout"]
    warnings = reference_report["stderr"].splitlines()
    assert len(warnings) == len(files) - len(records)  # the ablation tables
    assert all(w.startswith("cern-ai-bench-report: warning: skipped ") for w in warnings)
    assert any(w.endswith("ablation_mlp.json: not a result record (a JSON list)") for w in warnings)


def test_time_to_target_plot_when_records_have_one(tmp_path, make_record, capsys):
    for i, ttt in enumerate([12.0, 15.0]):
        make_record(
            f"r{i}.json", **{"benchmark.quality_target": 0.6, "timing.time_to_target_s": ttt}
        )
    out = tmp_path / "out"
    main([str(tmp_path), "--out", str(out)])
    text = (out / "report.md").read_text()
    assert "![Time to target](time_to_target.png)" in text
    assert "No record has a time to target" not in text
    assert "| 13.5 |" in text  # plain mean of two runs
    assert (out / "report.html").read_text().count("data:image/png;base64,") == 3
    assert "2 records, 1 system, 1 benchmark;" in capsys.readouterr().out


def test_a_stale_plot_of_an_earlier_report_is_removed(tmp_path, make_record):
    make_record("r.json")
    out = tmp_path / "out"
    out.mkdir()
    (out / "time_to_target.png").write_bytes(b"old")
    main([str(tmp_path / "r.json"), "--out", str(out)])
    assert not (out / "time_to_target.png").exists()


def test_default_out_folder_is_report_in_the_working_directory(tmp_path, make_record, monkeypatch):
    path = make_record("r.json")
    monkeypatch.chdir(tmp_path)
    main([str(path)])
    assert (tmp_path / "report" / "report.md").is_file()
    assert (tmp_path / "report" / "report.html").is_file()


def test_no_record_found_exits_2(tmp_path, capsys):
    (tmp_path / "ablation.json").write_text(json.dumps([{"variant": "base"}]))
    with pytest.raises(SystemExit) as done:
        main([str(tmp_path), "--out", str(tmp_path / "out")])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "warning: skipped" in err and "ablation.json" in err
    assert f"cern-ai-bench-report: error: no result record found in {tmp_path}" in err
    assert not (tmp_path / "out").exists()


def test_malformed_record_exits_2_naming_the_file(tmp_path, make_record, capsys):
    path = make_record("record.json")
    record = json.loads(path.read_text())
    del record["system"]["torch"]
    path.write_text(json.dumps(record))
    with pytest.raises(SystemExit) as done:
        main([str(tmp_path), "--out", str(tmp_path / "out")])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert f"error: {path} looks like a result record but is malformed" in err
    assert "system.torch" in err
    assert "Traceback" not in err


def test_missing_path_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as done:
        main([str(tmp_path / "nowhere")])
    assert done.value.code == 2
    assert "nowhere does not exist" in capsys.readouterr().err


def test_help_explains_the_command(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "usage: cern-ai-bench-report" in text
    assert "--out DIR" in text and "recursively" in text and "olympic" in text
