"""`make run` (python -m local_aws.demo): the whole release flow on the embedded local AWS, run as a
user runs it, in a process of its own; whatever happens, no process and no open port are left behind."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from local_aws.demo import DEMO_VERSION, deploy_environment

ROOT = Path(__file__).resolve().parent.parent
ENDPOINT = re.compile(r"local AWS endpoint: http://127\.0\.0\.1:(\d+)")


def start_demo(*arguments):
    """The demo in a session of its own, so that every process it starts can be found afterwards."""
    return subprocess.Popen(
        [sys.executable, "-m", "local_aws.demo", *arguments],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def processes_in_session(session_id):
    found = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # not a process, or it ended meanwhile
        if int(fields[3]) == session_id:  # fields after the command name: state ppid pgrp session
            found.append(int(entry.name))
    return found


def assert_nothing_left_behind(demo, stdout):
    port = int(ENDPOINT.search(stdout)[1])
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert processes_in_session(demo.pid) == []


def finish(demo, timeout=120):
    try:
        stdout, stderr = demo.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(demo.pid, signal.SIGKILL)
        raise
    return stdout, stderr


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds leftovers through /proc")


@pytest.mark.deploy
@needs_proc
def test_make_run_deploys_both_stacks_and_stops_the_server():
    demo = start_demo()
    stdout, stderr = finish(demo)
    assert demo.returncode == 0, stdout + stderr
    for number, step in enumerate(
        ["start local AWS", "seed Parameter Store", "deploy registry", "push image", "deploy app", "status app"],
        start=1,
    ):
        assert f"==> [{number}/6] {step}" in stdout
    for output in ["RegistryStack.RepositoryUri = ", "AppStack.ServiceName = ", "AppStack.ImageUri = "]:
        assert output in stdout
    assert f"kafkajs-canary-app:{DEMO_VERSION}" in stdout
    assert "✅ both stacks deployed on local AWS in" in stdout
    assert_nothing_left_behind(demo, stdout)


@pytest.mark.deploy
@needs_proc
def test_a_failing_step_is_named_and_the_server_still_stops():
    demo = start_demo("--skip", "image")
    stdout, stderr = finish(demo)
    assert demo.returncode == 1
    assert "==> [4/6] push image: skipped (--skip image)" in stdout
    assert "make run failed at step 'deploy app': python deploy.py app" in stderr
    assert DEMO_VERSION in stderr  # the deployer's preflight names the missing image
    assert "==> [6/6]" not in stdout
    assert_nothing_left_behind(demo, stdout)


@pytest.mark.deploy
@needs_proc
def test_ctrl_c_exits_130_without_a_traceback_and_leaves_nothing_behind():
    demo = start_demo()
    lines = []
    for line in demo.stdout:  # wait until deploy.py has been started
        lines.append(line)
        if "==> [3/6] deploy registry" in line:
            break
    time.sleep(0.2)
    demo.send_signal(signal.SIGINT)
    stdout, stderr = finish(demo)
    stdout = "".join(lines) + stdout
    assert demo.returncode == 130
    assert "make run interrupted during step 'deploy registry'; local AWS stopped" in stderr
    assert "demo.py" not in stderr  # no traceback of ours (deploy.py reports its own interruption)
    assert_nothing_left_behind(demo, stdout)


def test_deploy_steps_see_only_the_local_endpoint_and_dummy_credentials(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", "https://cloudformation.us-east-1.amazonaws.com")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "real-looking-token")
    environment = deploy_environment("http://127.0.0.1:5000")
    aws = {name: value for name, value in environment.items() if name.startswith("AWS_")}
    assert aws == {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    assert environment["PATH"] == os.environ["PATH"]
