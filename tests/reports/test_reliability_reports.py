"""`talkbench report` on a damaged run (issue 12, item 2): one line naming the file."""

from __future__ import annotations

import pytest

from talkbench.cli import main


@pytest.mark.parametrize("name, damage", [
    ("manifest.json", '{"stages": {"data": '),
    ("manifest.json", b"\xff\xfe\x00garbage"),
    ("results/realism.csv", 'setting,metric,value\n"FF_T1,fid,1\n'),
    ("results/realism.csv", b"\xff\xfe\x00\x81garbage\n"),
])
def test_damaged_run_is_a_one_line_error(fixture_run, tmp_path, capsys, name, damage):
    path = fixture_run / name
    path.write_bytes(damage if isinstance(damage, bytes) else damage.encode())
    assert main(["report", str(fixture_run), "--out", str(tmp_path / "rep")]) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and err.count("\n") == 0 and name.split("/")[-1] in err
