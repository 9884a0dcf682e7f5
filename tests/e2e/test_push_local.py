"""`make push-local TAG=...`: an image tag into a running local endpoint's ECR, in one line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from local_aws import LocalAWSError
from local_aws.push_local import push

pytestmark = pytest.mark.deploy
ROOT = Path(__file__).resolve().parents[2]
TAG = "1.16.0-beta.12-5f5d22f1"


def test_make_push_local_puts_the_tag_where_deploy_py_app_looks_for_it(aws):
    aws.client("ecr").create_repository(repositoryName="kafkajs-canary-app")
    # The environment running the suite, whichever it is (not necessarily .venv); -o: it is installed already,
    # make must not install the local extras into .venv.
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.stamp-local", "push-local", f"TAG={TAG}", f"BIN={bin_dir}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"pushed kafkajs-canary-app:{TAG} (sha256:" in result.stdout
    assert f"to {aws.endpoint_url}" in result.stdout
    images = aws.client("ecr").describe_images(repositoryName="kafkajs-canary-app", imageIds=[{"imageTag": TAG}])
    assert images["imageDetails"][0]["imageTags"] == [TAG]


def test_without_the_registry_it_says_to_deploy_it_first(aws):
    with pytest.raises(
        LocalAWSError, match=r"no ECR repository kafkajs-canary-app at .*: run `python deploy.py registry`"
    ):
        push(TAG, "kafkajs-canary-app", dict(os.environ))


def test_without_a_running_endpoint_it_says_what_to_start(aws, monkeypatch):
    with pytest.raises(LocalAWSError, match=r"AWS_ENDPOINT_URL is not set: start `make local-aws`"):
        push(TAG, "kafkajs-canary-app", {})
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    closed_port = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}  # nothing listens on the discard port
    with pytest.raises(LocalAWSError, match=r"nothing answers at http://127.0.0.1:9: is `make local-aws` running"):
        push(TAG, "kafkajs-canary-app", closed_port)
