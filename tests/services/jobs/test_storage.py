"""The folder storage: atomic writes, plain relative keys only, and a clear answer for a gone file."""

from __future__ import annotations

import pytest

from webapp.services.jobs.storage import BadStorageKey, FileGone, FolderStorage


@pytest.fixture
def storage(tmp_path):
    return FolderStorage(tmp_path / "files")


def test_a_written_file_reads_back_and_is_deleted_with_its_folder(storage):
    """Write, read, measure, delete by prefix."""
    with storage.writer("jobs/7/export.csv") as handle:
        handle.write(b"hello")
    with storage.open("jobs/7/export.csv") as handle:
        assert handle.read() == b"hello"
    assert storage.size("jobs/7/export.csv") == 5 and storage.exists("jobs/7/export.csv")
    assert storage.delete_prefix("jobs/7") == 1 and not storage.exists("jobs/7/export.csv")


def test_a_write_that_fails_leaves_no_file(storage):
    """A worker that fails mid-write never leaves half a file under the key."""
    with pytest.raises(RuntimeError), storage.writer("jobs/1/half.pdf") as handle:
        handle.write(b"%PDF-1.7 half")
        raise RuntimeError("killed")
    assert not storage.exists("jobs/1/half.pdf")
    assert list((storage.root / "jobs" / "1").iterdir()) == []


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../secret", "jobs/../../x", "jobs//x", "./x", "jobs/."])
def test_keys_outside_the_storage_are_refused(storage, key):
    """Only plain relative paths name files: nothing outside the folder can be reached."""
    with pytest.raises(BadStorageKey):
        storage.local_path(key)


def test_a_missing_file_is_gone(storage):
    """Reading or measuring a deleted file answers FileGone (410), not a crash."""
    with pytest.raises(FileGone):
        storage.open("jobs/1/none.csv")
    with pytest.raises(FileGone):
        storage.size("jobs/1/none.csv")


def test_an_uploaded_file_is_moved_in(storage, tmp_path):
    """An upload saved to a temporary name is moved under its key."""
    upload = tmp_path / "upload.tmp"
    upload.write_bytes(b"cin,rna\n")
    storage.put_file("imports/abc.csv", upload)
    assert not upload.exists() and storage.local_path("imports/abc.csv").read_bytes() == b"cin,rna\n"
