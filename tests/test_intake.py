"""Reading submissions: .ipynb or export zip, validated without executing or unpickling anything."""

import hashlib
import json
import os
import pickle
import stat
import zipfile
from pathlib import Path

import nbformat
import pytest

from nnassign.intake import (INVALID_NOTEBOOK, INVALID_SUBMISSION, WRONG_ASSIGNMENT, SubmissionError,
                             read_submission)

FIXTURES = Path(__file__).parent / "fixtures" / "grading"
NAME = "nn-fixture"


def honest_dict():
    return json.loads((FIXTURES / "honest.ipynb").read_text())


def write_nb(path, nb):
    path.write_text(json.dumps(nb))
    return path


def make_zip(path, entries, symlink=None):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


def rejected(path, status, match):
    with pytest.raises(SubmissionError) as info:
        read_submission(path, NAME)
    assert info.value.status == status
    assert match in info.value.message
    assert "\n" not in info.value.message


def test_plain_notebook_is_accepted_with_its_hash():
    sub = read_submission(FIXTURES / "honest.ipynb", NAME)
    assert sub.content_sha256 == hashlib.sha256((FIXTURES / "honest.ipynb").read_bytes()).hexdigest()
    assert sub.warnings == [] and sub.member is None
    assert any("def softmax" in c.source for c in sub.notebook.cells)


def test_export_zip_is_accepted_and_its_pickle_log_never_loaded(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    raw = (FIXTURES / "honest.ipynb").read_bytes()
    path = make_zip(tmp_path / "sub.zip", {"nn_fixture.ipynb": raw, ".OTTER_LOG": pickle.dumps(Payload()),
                                           "__zip_filename__": "sub.zip", "nn_data.py": "x = 1"})
    sub = read_submission(path, NAME)
    assert not marker.exists()
    assert sub.member == "nn_fixture.ipynb"
    assert sub.content_sha256 == hashlib.sha256(raw).hexdigest()   # same seed as the bare notebook


def test_zip_is_detected_by_content_not_extension(tmp_path):
    raw = (FIXTURES / "honest.ipynb").read_bytes()
    path = make_zip(tmp_path / "sub.ipynb", {"nb.ipynb": raw})
    assert read_submission(path, NAME).member == "nb.ipynb"


@pytest.mark.parametrize("entries, symlink, match", [
    ({"../../evil.ipynb": "{}"}, None, "points outside"),
    ({"/etc/cron.d/evil": "x", "nb.ipynb": "{}"}, None, "points outside"),
    ({"..\\evil.py": "x", "nb.ipynb": "{}"}, None, "points outside"),
    ({"nb.ipynb": "{}"}, "link.ipynb", "symbolic link"),
    ({"a.ipynb": "{}", "sub/b.ipynb": "{}"}, None, "several notebooks"),
    ({"notes.txt": "x", ".ipynb_checkpoints/a-checkpoint.ipynb": "{}"}, None, "no notebook"),
])
def test_unsafe_or_ambiguous_zips_are_rejected(tmp_path, entries, symlink, match):
    rejected(make_zip(tmp_path / "sub.zip", entries, symlink), INVALID_SUBMISSION, match)


def test_zip_bomb_is_rejected_without_inflating_it(tmp_path):
    with zipfile.ZipFile(tmp_path / "ratio.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("nb.ipynb", b"{}")
        with zf.open("padding.bin", "w", force_zip64=True) as f:
            for _ in range(40):
                f.write(bytes(2**20))        # 40 MB of zeros, ~40 KB compressed
    rejected(tmp_path / "ratio.zip", INVALID_SUBMISSION, "zip bomb")
    # a header announcing more than the total cap is refused before anything is read
    data = bytearray(make_zip(tmp_path / "big.zip", {"nb.ipynb": "{}"}).read_bytes())
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (300 * 2**20).to_bytes(4, "little")   # uncompressed size
    (tmp_path / "big.zip").write_bytes(bytes(data))
    rejected(tmp_path / "big.zip", INVALID_SUBMISSION, "zip bomb")


def test_corrupt_zip_is_rejected(tmp_path):
    path = tmp_path / "sub.zip"
    path.write_bytes(b"PK\x03\x04" + os.urandom(200))
    rejected(path, INVALID_SUBMISSION, "not a readable zip")


def test_invalid_json_and_non_notebooks_are_rejected(tmp_path):
    path = tmp_path / "a.ipynb"
    path.write_text('{"cells": [')
    rejected(path, INVALID_NOTEBOOK, "not valid JSON")
    path.write_bytes(b"\xff\xfe\x00binary")
    rejected(path, INVALID_NOTEBOOK, "UTF-8")
    path.write_text("[1, 2]")
    rejected(path, INVALID_NOTEBOOK, "not a notebook")
    path.write_text("[" * 100000 + "]" * 100000)
    rejected(path, INVALID_NOTEBOOK, "")


def test_schema_and_version_violations_are_rejected(tmp_path):
    nb = honest_dict()
    nb["cells"][0]["cell_type"] = "spreadsheet"
    rejected(write_nb(tmp_path / "a.ipynb", nb), INVALID_NOTEBOOK, "not a valid notebook")
    nb = honest_dict()
    nb["nbformat"] = 3
    rejected(write_nb(tmp_path / "b.ipynb", nb), INVALID_NOTEBOOK, "nbformat 3")


def test_other_kernel_languages_are_rejected(tmp_path):
    nb = honest_dict()
    nb["metadata"]["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    nb["metadata"]["language_info"] = {"name": "R"}
    rejected(write_nb(tmp_path / "a.ipynb", nb), INVALID_NOTEBOOK, "runs R, not Python")


def test_empty_notebooks_are_rejected(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["otter"] = {"assignment_name": NAME}
    rejected(write_nb(tmp_path / "a.ipynb", nb), INVALID_NOTEBOOK, "no code")
    nb.cells = [nbformat.v4.new_markdown_cell("answers"), nbformat.v4.new_code_cell("   \n")]
    rejected(write_nb(tmp_path / "b.ipynb", nb), INVALID_NOTEBOOK, "no code")


def test_assignment_name_is_checked_and_a_missing_one_only_warns(tmp_path):
    nb = honest_dict()
    nb["metadata"]["otter"]["assignment_name"] = "hw-other"
    rejected(write_nb(tmp_path / "a.ipynb", nb), WRONG_ASSIGNMENT, "'hw-other'")
    del nb["metadata"]["otter"]
    sub = read_submission(write_nb(tmp_path / "b.ipynb", nb), NAME)
    assert len(sub.warnings) == 1 and "assignment name" in sub.warnings[0]


def test_missing_file_is_a_clear_error(tmp_path):
    rejected(tmp_path / "absent.ipynb", INVALID_SUBMISSION, "cannot read absent.ipynb")


def test_what_jupyter_opens_is_read_leniently(tmp_path):
    nb = honest_dict()
    nb["nbformat_minor"] = 2                      # an old minor version, yet cells carry ids
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = "same" if i < 2 else f"c{i}"  # and two share one
    nb["cells"][0]["vscode"] = {"languageId": "python"}   # an unknown key
    nb["cells"][0]["outputs"], nb["cells"][0]["execution_count"] = [], 3   # outputs on a markdown cell
    nb["cells"][0]["cell_type"] = "markdown"
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "hi", "transient": {"x": 1}},
                       {"output_type": "display_data", "data": 7}]     # a broken output
    nb["custom"] = 1
    sub = read_submission(write_nb(tmp_path / "lenient.ipynb", nb), NAME)
    assert sub.notebook.nbformat_minor == 5
    ids = [c.id for c in sub.notebook.cells]
    assert len(set(ids)) == len(ids)
    assert "read leniently" in " ".join(sub.warnings)
    assert [c.source for c in sub.notebook.cells] == [c["source"] if isinstance(c["source"], str)
                                                      else "".join(c["source"]) for c in nb["cells"]]
    assert all("outputs" not in c for c in sub.notebook.cells if c.cell_type == "markdown")
