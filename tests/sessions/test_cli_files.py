"""Deleting a session removes the CLI's own transcript file, and nothing else."""

from __future__ import annotations

import uuid

from claude_max.sessions import cli_files


def test_removes_the_transcript_and_its_sidecar(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path))
    session, other = str(uuid.uuid4()), str(uuid.uuid4())
    project = tmp_path / "projects" / "-home-me-workspace"
    project.mkdir(parents=True)
    (project / f"{session}.jsonl").write_text("{}\n")
    (project / session).mkdir()
    (project / session / "subagent.jsonl").write_text("{}\n")
    (project / f"{other}.jsonl").write_text("{}\n")
    assert cli_files.remove([session, None]) == 1
    assert sorted(p.name for p in project.iterdir()) == [f"{other}.jsonl"]


def test_only_uuid_shaped_ids_are_used_in_a_glob(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path))
    project = tmp_path / "projects" / "-x"
    project.mkdir(parents=True)
    keep = project / f"{uuid.uuid4()}.jsonl"
    keep.write_text("{}\n")
    assert cli_files.remove(["*", "../*", "", "not-a-uuid"]) == 0
    assert keep.exists()
