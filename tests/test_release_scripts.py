"""The release workflow's scripts (.github/scripts/), run as the workflow runs them: against an app repository
the tests create (a fixture `app/` folder with a version-1 lockfile, its own bare `origin`), with `npx`, `aws`,
`docker` and the back-off's sleep replaced on PATH by stubs that record their arguments (they would reach the
npm registry, AWS and Docker). git, bash and curl are real."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent / ".github" / "scripts"
VERSION = "1.17.0-beta.3"
REPOSITORY_URI = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/kafkajs-canary-app"

# Each stub appends one line per call to $STUB_LOG: its name and its arguments, tab-separated.
STUBS = {
    # npm 6 as the bump runs it: fails the first $NPX_FAILURES calls (the version is not published yet), then
    # writes the version into package.json and the lockfile, as lockfile version $NPX_LOCKFILE_VERSION.
    "npx": r"""
calls=$(grep -c '^npx' "$STUB_LOG" || true)
if (( calls <= ${NPX_FAILURES:-0} )); then echo "npm ERR! notarget No matching version found" >&2; exit 1; fi
version=${!#}; version=${version#kafkajs@}
sed -i "s/\"kafkajs\": \"[^\"]*\"/\"kafkajs\": \"^$version\"/" package.json
sed -i -e "s/\"lockfileVersion\": [0-9]*/\"lockfileVersion\": ${NPX_LOCKFILE_VERSION:-1}/" \
  -e "s/\"version\": \"1.16.0-beta.12\"/\"version\": \"$version\"/" package-lock.json
""",
    # The registry stack's outputs, and ECR holding the tags in $ECR_TAGS (or refusing with $AWS_ERROR).
    "aws": r"""
if [[ -n "${AWS_ERROR:-}" ]]; then echo "$AWS_ERROR" >&2; exit 254; fi
case "$*" in
  *RepositoryUri*) echo "$REPOSITORY_URI" ;;
  *RepositoryName*) echo "${REPOSITORY_URI#*/}" ;;
  "ecr describe-images"*)
    for tag in ${ECR_TAGS:-}; do [[ "$*" == *"imageTag=$tag "* ]] && { echo sha256:0123abcd; exit 0; }; done
    echo "An error occurred (ImageNotFoundException) when calling the DescribeImages operation: not found" >&2
    exit 254 ;;
  *) echo "unexpected aws $*" >&2; exit 99 ;;
esac
""",
    "docker": "",
    "sleep": "",
}


def write_app(folder: Path, kafkajs_range="^1.16.0-beta.12"):
    folder.mkdir(parents=True)
    package = {"name": "kafkajs-canary-app", "version": "0.1.0", "dependencies": {"kafkajs": kafkajs_range}}
    lockfile = {
        "name": "kafkajs-canary-app",
        "version": "0.1.0",
        "lockfileVersion": 1,
        "requires": True,
        "dependencies": {"kafkajs": {"version": "1.16.0-beta.12"}},
    }
    (folder / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    (folder / "package-lock.json").write_text(json.dumps(lockfile, indent=2) + "\n")
    (folder / "Dockerfile").write_text("FROM node:12-alpine\nRUN npm ci\n")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def stub_environment(bin_dir: Path, root: Path) -> dict[str, str]:
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(root),
        "STUB_LOG": str(root / "calls.log"),
        "RETRY_SLEEP": str(bin_dir / "sleep"),
        "REPOSITORY_URI": REPOSITORY_URI,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Canary Maintainer",
        "GIT_AUTHOR_EMAIL": "maintainer@example.com",
        "GIT_COMMITTER_NAME": "Canary Maintainer",
        "GIT_COMMITTER_EMAIL": "maintainer@example.com",
    }


class Release:
    """A workspace as the release job sees it: the app repository checked out (cloned from a bare origin) and
    the stubs first on PATH."""

    def __init__(self, root: Path):
        self.root = root
        self.origin = root / "origin.git"
        self.checkout = root / "canary-app"
        self.app = self.checkout / "app"
        self.log = root / "calls.log"
        self.env = stub_environment(root / "bin", root)

    @classmethod
    def create(cls, root: Path) -> "Release":
        bin_dir = root / "bin"
        bin_dir.mkdir()
        for name, body in STUBS.items():
            stub = bin_dir / name
            stub.write_text(
                f'#!/usr/bin/env bash\nprintf "%s\\t" {name} "$@" >> "$STUB_LOG"; echo >> "$STUB_LOG"\n{body}'
            )
            stub.chmod(0o755)
        release = cls(root)
        source = root / "source"
        write_app(source / "app")
        environment = {**os.environ, **release.env}
        for args in (["init", "--quiet", "--initial-branch=master"], ["add", "."], ["commit", "--quiet", "-m", "app"]):
            subprocess.run(["git", "-C", str(source), *args], check=True, env=environment)
        subprocess.run(["git", "clone", "--quiet", "--bare", str(source), str(release.origin)], check=True)
        subprocess.run(["git", "clone", "--quiet", str(release.origin), str(release.checkout)], check=True)
        return release

    def copy_to(self, root: Path) -> "Release":
        """The same workspace under root (cheaper than creating it again), its checkout pushing to its own origin."""
        shutil.copytree(self.root, root, symlinks=True, dirs_exist_ok=True)
        config = root / "canary-app" / ".git" / "config"
        config.write_text(config.read_text().replace(str(self.origin), str(root / "origin.git")))
        for stub in (root / "bin").iterdir():
            stub.chmod(0o755)
        copy = Release(root)
        copy.log.write_text("")
        return copy

    def run(self, script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(SCRIPTS / script), *args], capture_output=True, text=True, timeout=30, env={**self.env, **env}
        )

    def calls(self, name: str) -> list[list[str]]:
        lines = self.log.read_text().splitlines()
        return [line.rstrip("\t").split("\t")[1:] for line in lines if line.split("\t")[0] == name]


@pytest.fixture(scope="module")
def pristine_release(tmp_path_factory):
    return Release.create(tmp_path_factory.mktemp("release"))


@pytest.fixture
def release(pristine_release, tmp_path):
    return pristine_release.copy_to(tmp_path)


def lockfile_version(app: Path) -> int:
    return json.loads((app / "package-lock.json").read_text())["lockfileVersion"]


NPM6_BUMP = ["--yes", "npm@6", "install", "--save", "--package-lock-only", "--ignore-scripts", f"kafkajs@{VERSION}"]


def test_bump_uses_the_images_npm_major_and_keeps_the_lockfile_version(release):
    result = release.run("bump-kafkajs.sh", str(release.app), VERSION)
    assert result.returncode == 0, result.stderr
    assert release.calls("npx") == [NPM6_BUMP]
    assert json.loads((release.app / "package.json").read_text())["dependencies"]["kafkajs"] == f"^{VERSION}"
    assert lockfile_version(release.app) == 1


def test_bump_retries_with_exponential_back_off_until_the_version_is_published(release):
    result = release.run("bump-kafkajs.sh", str(release.app), VERSION, NPX_FAILURES="3")
    assert result.returncode == 0, result.stderr
    assert release.calls("npx") == [NPM6_BUMP] * 4
    assert release.calls("sleep") == [["5"], ["10"], ["20"]]
    assert "try 3/7 failed (exit 1), retrying in 20 s" in result.stderr


def test_bump_gives_up_after_seven_tries_with_the_last_failure(release):
    result = release.run("bump-kafkajs.sh", str(release.app), VERSION, NPX_FAILURES="99")
    assert result.returncode == 1
    assert len(release.calls("npx")) == 7
    assert release.calls("sleep") == [["5"], ["10"], ["20"], ["40"], ["80"], ["160"]]
    assert "try 7/7 failed (exit 1), giving up" in result.stderr
    assert git(release.checkout, "status", "--porcelain") == ""


def test_bump_refuses_a_lockfile_the_images_npm_could_not_read(release):
    result = release.run("bump-kafkajs.sh", str(release.app), VERSION, NPX_LOCKFILE_VERSION="3", APP_NPM_MAJOR="10")
    assert result.returncode == 1
    assert release.calls("npx")[0][1] == "npm@10"
    assert "from lockfile version 1 to 3" in result.stderr and "set APP_NPM_MAJOR" in result.stderr


def test_bump_names_a_wrong_app_path(release):
    result = release.run("bump-kafkajs.sh", str(release.checkout), VERSION)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"{release.checkout}/package.json not found: APP_PATH must name the app's folder in its repository"
    )
    assert release.calls("npx") == []


def test_retry_refuses_a_bad_number_of_tries(release):
    result = release.run("retry.sh", "seven", "true")
    assert result.returncode == 2 and "usage:" in result.stderr


def test_the_bump_is_committed_back_and_the_tag_names_that_commit_in_exactly_8_characters(release):
    assert release.run("bump-kafkajs.sh", str(release.app), VERSION).returncode == 0
    result = release.run("commit-bump.sh", str(release.checkout), "app", VERSION)
    assert result.returncode == 0, result.stderr

    pushed = git(release.origin, "rev-parse", "master")
    assert git(release.origin, "log", "-1", "--format=%s", "master") == f"Update KafkaJS to {VERSION}"
    changed = git(release.origin, "show", "--name-only", "--format=", "master").splitlines()
    assert sorted(changed) == ["app/package-lock.json", "app/package.json"]

    tag = release.run("image-tag.sh", str(release.checkout), VERSION).stdout.strip()
    assert tag == f"{VERSION}-{pushed[:8]}"


def test_a_rerun_commits_nothing_and_tags_the_same_commit(release):
    assert release.run("bump-kafkajs.sh", str(release.app), VERSION).returncode == 0
    assert release.run("commit-bump.sh", str(release.checkout), "app", VERSION).returncode == 0
    first_tag = release.run("image-tag.sh", str(release.checkout), VERSION).stdout
    commits = git(release.origin, "rev-list", "--count", "master")

    assert release.run("bump-kafkajs.sh", str(release.app), VERSION).returncode == 0
    result = release.run("commit-bump.sh", str(release.checkout), "app", VERSION)
    assert result.returncode == 0 and "nothing to commit" in result.stdout
    assert git(release.origin, "rev-list", "--count", "master") == commits
    assert release.run("image-tag.sh", str(release.checkout), VERSION).stdout == first_tag


def test_a_push_refused_because_the_branch_moved_stops_the_release(release):
    other = release.root / "other"
    subprocess.run(["git", "clone", "--quiet", str(release.origin), str(other)], check=True)
    (other / "README.md").write_text("moved\n")
    for args in (["add", "."], ["commit", "--quiet", "-m", "meanwhile"], ["push", "--quiet"]):
        subprocess.run(["git", "-C", str(other), *args], check=True, env={**os.environ, **release.env})
    assert release.run("bump-kafkajs.sh", str(release.app), VERSION).returncode == 0
    result = release.run("commit-bump.sh", str(release.checkout), "app", VERSION)
    assert result.returncode != 0 and "rejected" in result.stderr
    assert git(release.origin, "log", "-1", "--format=%s", "master") == "meanwhile"


def test_a_new_tag_is_built_from_the_app_folder_and_pushed_with_latest(release):
    tag = f"{VERSION}-5f5d22f1"
    result = release.run("push-image.sh", "RegistryStack", str(release.app), tag, ECR_TAGS="1.16.0-beta.12-0a1b2c3d")
    assert result.returncode == 0, result.stderr
    assert release.calls("docker") == [
        ["build", "--tag", f"{REPOSITORY_URI}:{tag}", "--tag", f"{REPOSITORY_URI}:latest", str(release.app)],
        ["push", f"{REPOSITORY_URI}:{tag}"],
        ["push", f"{REPOSITORY_URI}:latest"],
    ]
    lookup = release.calls("aws")[-1]
    assert lookup[:4] == ["ecr", "describe-images", "--repository-name", "kafkajs-canary-app"]
    assert f"imageTag={tag}" in lookup


def test_a_tag_already_in_ecr_is_neither_built_nor_pushed_again(release):
    tag = f"{VERSION}-5f5d22f1"
    result = release.run("push-image.sh", "RegistryStack", str(release.app), tag, ECR_TAGS=tag)
    assert result.returncode == 0, result.stderr
    assert release.calls("docker") == []
    assert f"{REPOSITORY_URI}:{tag} is already in ECR" in result.stdout


def test_an_aws_error_other_than_not_found_fails_before_building(release):
    denied = "An error occurred (AccessDeniedException) when calling the DescribeStacks operation: denied"
    result = release.run("push-image.sh", "RegistryStack", str(release.app), "x-5f5d22f1", AWS_ERROR=denied)
    assert result.returncode != 0
    assert release.calls("docker") == []


def test_the_release_message_reaches_slack(release, slack_webhook):
    message = 'KafkaJS canary app deployed 1.17.0-beta.3-5f5d22f1\n"quoted" \\ back\tslash'
    result = release.run("notify-slack.sh", message, SLACK_WEBHOOK_URL=slack_webhook.url, NO_PROXY="127.0.0.1")
    assert result.returncode == 0, result.stderr
    assert slack_webhook.bodies == [{"text": message}]
    assert slack_webhook.url not in result.stdout + result.stderr


def test_a_slack_error_fails_the_message_step(release, slack_webhook):
    slack_webhook.status = 404
    result = release.run("notify-slack.sh", "deployed", SLACK_WEBHOOK_URL=slack_webhook.url, NO_PROXY="127.0.0.1")
    assert result.returncode != 0
    assert "404" in result.stderr


# --- The canary's verdict decides the run: report-verdict.sh ------------------------------------------------

RELEASE_TAG = "1.17.0-beta.3-5f5d22f1"
RUN_URL = "https://github.com/kafkajs/canary-infra/actions/runs/42"
GITHUB_RUN = {
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "kafkajs/canary-infra",
    "GITHUB_RUN_ID": "42",
}
# What `deploy.py app --verify --verdict-file` writes.
HEALTHY = {
    "version": RELEASE_TAG,
    "outcome": "healthy",
    "verdict": f"✅ canary healthy on {RELEASE_TAG} for 10 min (max lag 42, tasks 1/1)",
    "cause": "",
    "consequence": "",
    "watched_seconds": 600,
    "max_lag": 42.0,
    "running_tasks": 1,
    "desired_tasks": 1,
}
FAILED = {
    **HEALTHY,
    "outcome": "failed",
    "verdict": f"❌ canary failed on {RELEASE_TAG}: AppStack-consumer-lag Threshold Crossed: 5 datapoints [5120.0, "
    "5911.0, ...] were greater than the threshold (1000.0); ECS rolled back to 1.17.0-beta.2-0a1b2c3d",
    "watched_seconds": 0,
    "max_lag": 5911.0,
}


def report(tmp_path, deploy_exit_code, verdict, **env):
    """report-verdict.sh as the release's last step runs it; returns its result and the run's summary."""
    verdict_file = tmp_path / "verdict.json"
    if verdict is not None:
        verdict_file.write_text(json.dumps(verdict))
    summary = tmp_path / "summary.md"
    result = subprocess.run(
        [str(SCRIPTS / "report-verdict.sh"), RELEASE_TAG, str(deploy_exit_code), str(verdict_file)],
        capture_output=True,
        text=True,
        timeout=30,
        env={
            "PATH": os.environ["PATH"],
            "GITHUB_STEP_SUMMARY": str(summary),
            "NO_PROXY": "127.0.0.1",
            **GITHUB_RUN,
            **env,
        },
    )
    return result, summary.read_text() if summary.exists() else ""


def test_a_healthy_canary_passes_the_run_and_its_verdict_reaches_slack_and_the_summary(tmp_path, slack_webhook):
    result, summary = report(tmp_path, 0, HEALTHY, SLACK_WEBHOOK_URL=slack_webhook.url)
    assert result.returncode == 0, result.stderr
    assert slack_webhook.bodies == [{"text": f"{HEALTHY['verdict']}\n<{RUN_URL}|release run>"}]
    assert summary == (
        f"## KafkaJS canary: {RELEASE_TAG}\n\n{HEALTHY['verdict']}\n\n"
        "| max lag | tasks running | watched |\n|---|---|---|\n| 42 | 1/1 | 600 s |\n"
    )
    assert slack_webhook.url not in result.stdout + result.stderr


def test_a_failed_canary_fails_the_run_with_its_verdict_and_lag_figures(tmp_path, slack_webhook):
    result, summary = report(tmp_path, 3, FAILED, SLACK_WEBHOOK_URL=slack_webhook.url)
    assert result.returncode == 3
    assert slack_webhook.bodies == [{"text": f"{FAILED['verdict']}\n<{RUN_URL}|release run>"}]
    assert FAILED["verdict"] in summary and "| 5911 | 1/1 | 0 s |" in summary


def test_without_the_webhook_secret_nothing_is_posted_and_the_verdict_still_decides(tmp_path, slack_webhook):
    result, summary = report(tmp_path, 3, FAILED)
    assert (result.returncode, slack_webhook.bodies) == (3, [])
    assert FAILED["verdict"] in result.stdout and FAILED["verdict"] in summary


def test_a_slack_error_is_a_warning_and_the_verdict_stands(tmp_path, slack_webhook):
    slack_webhook.status = 500
    result, _ = report(tmp_path, 0, HEALTHY, SLACK_WEBHOOK_URL=slack_webhook.url)
    assert result.returncode == 0
    assert "::warning::Slack did not take the verdict" in result.stdout and "500" in result.stderr


@pytest.mark.parametrize("deploy_exit_code, run_exit_code", [(1, 1), (2, 2), (0, 1)])
def test_a_deploy_without_a_verdict_fails_the_run_and_says_so(tmp_path, slack_webhook, deploy_exit_code, run_exit_code):
    result, summary = report(tmp_path, deploy_exit_code, None, SLACK_WEBHOOK_URL=slack_webhook.url)
    assert result.returncode == run_exit_code
    said = f"❌ KafkaJS canary: the deploy of {RELEASE_TAG} failed (exit {deploy_exit_code}) before the canary could be judged"
    assert slack_webhook.bodies == [{"text": f"{said}\n<{RUN_URL}|release run>"}]
    assert said in summary


def test_report_refuses_a_missing_exit_code(tmp_path):
    result, _ = report(tmp_path, "", HEALTHY)
    assert result.returncode == 2 and "usage:" in result.stderr
