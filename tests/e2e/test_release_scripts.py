"""The release workflow's scripts (.github/scripts/), run as the workflow runs them: against an app repository
the tests create (a fixture `app/` folder with a version-1 lockfile, its own bare `origin`), with `npx`, `aws`,
`docker` and the back-off's sleep replaced on PATH by stubs that record their arguments (they would reach the
npm registry, AWS and Docker); the stubs keep ECR's tags and the runner's built images in files, so a run and
its re-run see what the other left. git, bash and curl are real. The build job's order and the plan job's
matrix are tested by running those jobs' own `run` steps from release.yml, in their order."""

import base64
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / ".github" / "scripts"
APP_DOCKERFILE = Path(__file__).resolve().parents[1] / "fixtures" / "canary-app-5f5d22f7" / "Dockerfile"
VERSION = "1.17.0-beta.3"
REPOSITORY_URI = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/kafkajs-canary-app"
APP_TOKEN = "github_pat_11AAAAAAA0123456789_abcdefghijklmnop"

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
    # The registry stack's outputs, and ECR holding the tags listed in $ECR (or refusing with $AWS_ERROR) in a
    # repository whose tag mutability is $TAG_MUTABILITY with the exclusion filters $TAG_EXCLUSIONS (default: the
    # registry's with LatestTag mutable), as ecr.sh's query prints them (or refusing with $REPOSITORY_ERROR).
    "aws": r"""
if [[ -n "${AWS_ERROR:-}" ]]; then echo "$AWS_ERROR" >&2; exit 254; fi
case "$*" in
  *RepositoryUri*) echo "$REPOSITORY_URI" ;;
  *RepositoryName*) echo "${REPOSITORY_URI#*/}" ;;
  "ecr describe-repositories --repository-names ${REPOSITORY_URI#*/} "*)
    if [[ -n "${REPOSITORY_ERROR:-}" ]]; then echo "$REPOSITORY_ERROR" >&2; exit 254; fi
    printf '%s\t%s\n' "${TAG_MUTABILITY:-IMMUTABLE_WITH_EXCLUSION}" "${TAG_EXCLUSIONS-latest}" ;;
  "ecr describe-images"*)
    while read -r tag; do [[ "$*" == *"imageTag=$tag "* ]] && { echo sha256:0123abcd; exit 0; }; done < "$ECR"
    echo "An error occurred (ImageNotFoundException) when calling the DescribeImages operation: not found" >&2
    exit 254 ;;
  *) echo "unexpected aws $*" >&2; exit 99 ;;
esac
""",
    # The runner's Docker: `build` keeps the tags it builds in $DOCKER_IMAGES (unless $DOCKER_BUILD_FAILS),
    # `push` sends a built one to ECR (unless it matches the pattern $DOCKER_PUSH_FAILS).
    "docker": r"""
case "$1" in
  build)
    if [[ -n "${DOCKER_BUILD_FAILS:-}" ]]; then echo "ERROR: failed to solve: process did not complete" >&2; exit 1; fi
    while (( $# )); do [[ "$1" == --tag ]] && echo "$2" >> "$DOCKER_IMAGES"; shift; done ;;
  push)
    grep -qxF "$2" "$DOCKER_IMAGES" || { echo "An image does not exist locally with the tag: $2" >&2; exit 1; }
    if [[ -n "${DOCKER_PUSH_FAILS:-}" && "$2" == $DOCKER_PUSH_FAILS ]]; then echo "unknown blob" >&2; exit 1; fi
    [[ "$2" == *:latest ]] || echo "${2##*:}" >> "$ECR" ;;
esac
""",
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
    shutil.copyfile(APP_DOCKERFILE, folder / "Dockerfile")  # the app's own, as upstream has it


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def stub_environment(bin_dir: Path, root: Path) -> dict[str, str]:
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(root),
        "STUB_LOG": str(root / "calls.log"),
        "ECR": str(root / "ecr-tags"),
        "DOCKER_IMAGES": str(root / "docker-images"),
        "RETRY_SLEEP": str(bin_dir / "sleep"),
        "REPOSITORY_URI": REPOSITORY_URI,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": "Canary Maintainer",
        "GIT_AUTHOR_EMAIL": "maintainer@example.com",
        "GIT_COMMITTER_NAME": "Canary Maintainer",
        "GIT_COMMITTER_EMAIL": "maintainer@example.com",
    }


class Release:
    """A workspace as the release's build job sees it: this repository's .github, the app repository checked out
    into canary-app (cloned from a bare origin), the stubs first on PATH, ECR's tags and Docker's images in files."""

    def __init__(self, root: Path):
        self.root = root
        self.origin = root / "origin.git"
        self.checkout = root / "canary-app"
        self.app = self.checkout / "app"
        self.log = root / "calls.log"
        self.ecr = root / "ecr-tags"
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
        (root / ".github").symlink_to(ROOT / ".github")
        release = cls(root)
        for state in (release.ecr, root / "docker-images"):
            state.write_text("")
        source = root / "source"
        write_app(source / "app")
        environment = {**os.environ, **release.env}
        for args in (["init", "--quiet", "--initial-branch=master"], ["add", "."], ["commit", "--quiet", "-m", "app"]):
            subprocess.run(["git", "-C", str(source), *args], check=True, env=environment)
        subprocess.run(["git", "clone", "--quiet", "--bare", str(source), str(release.origin)], check=True)
        release.check_out()
        return release

    def check_out(self):
        """The app repository as a (re-)run's checkout finds it: its branch as origin has it now."""
        shutil.rmtree(self.checkout, ignore_errors=True)
        subprocess.run(["git", "clone", "--quiet", str(self.origin), str(self.checkout)], check=True)

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

    def ecr_tags(self) -> list[str]:
        return self.ecr.read_text().split()

    def bump_commits(self) -> list[str]:
        return git(self.origin, "log", "--format=%s", "master").splitlines()[:-1]  # all but the app's first commit


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


def test_the_bump_is_committed_but_not_pushed_and_the_tag_names_that_commit_in_exactly_8_characters(release):
    assert release.run("bump-kafkajs.sh", str(release.app), VERSION).returncode == 0
    result = release.run("commit-bump.sh", str(release.checkout), "app", VERSION)
    assert result.returncode == 0, result.stderr

    commit = git(release.checkout, "rev-parse", "HEAD")
    assert git(release.checkout, "log", "-1", "--format=%s") == f"Update KafkaJS to {VERSION}"
    changed = git(release.checkout, "show", "--name-only", "--format=", "HEAD").splitlines()
    assert sorted(changed) == ["app/package-lock.json", "app/package.json"]
    assert release.bump_commits() == []  # recorded in the app repository only by push-bump.sh

    tag = release.run("image-tag.sh", str(release.checkout), VERSION).stdout.strip()
    assert tag == f"{VERSION}-{commit[:8]}"


def test_a_recorded_bump_is_pushed_to_the_checked_out_branch(release):
    assert release.run("bump-kafkajs.sh", str(release.app), VERSION).returncode == 0
    assert release.run("commit-bump.sh", str(release.checkout), "app", VERSION).returncode == 0
    result = release.run("push-bump.sh", str(release.checkout))
    assert result.returncode == 0, result.stderr
    assert git(release.origin, "rev-parse", "master") == git(release.checkout, "rev-parse", "HEAD")
    assert release.bump_commits() == [f"Update KafkaJS to {VERSION}"]


def test_a_rerun_commits_nothing_and_tags_the_same_commit(release):
    assert release.run("bump-kafkajs.sh", str(release.app), VERSION).returncode == 0
    assert release.run("commit-bump.sh", str(release.checkout), "app", VERSION).returncode == 0
    assert release.run("push-bump.sh", str(release.checkout)).returncode == 0
    first_tag = release.run("image-tag.sh", str(release.checkout), VERSION).stdout

    release.check_out()
    assert release.run("bump-kafkajs.sh", str(release.app), VERSION).returncode == 0
    result = release.run("commit-bump.sh", str(release.checkout), "app", VERSION)
    assert result.returncode == 0 and "nothing to commit" in result.stdout
    assert release.run("push-bump.sh", str(release.checkout)).returncode == 0
    assert release.bump_commits() == [f"Update KafkaJS to {VERSION}"]
    assert release.run("image-tag.sh", str(release.checkout), VERSION).stdout == first_tag


def move_the_branch(release: Release):
    """Someone pushes to the app repository after the release checked it out."""
    other = release.root / "other"
    subprocess.run(["git", "clone", "--quiet", str(release.origin), str(other)], check=True)
    (other / "README.md").write_text("moved\n")
    for args in (["add", "."], ["commit", "--quiet", "-m", "meanwhile"], ["push", "--quiet"]):
        subprocess.run(["git", "-C", str(other), *args], check=True, env={**os.environ, **release.env})


def test_a_push_refused_because_the_branch_moved_fails(release):
    move_the_branch(release)
    assert release.run("bump-kafkajs.sh", str(release.app), VERSION).returncode == 0
    assert release.run("commit-bump.sh", str(release.checkout), "app", VERSION).returncode == 0
    result = release.run("push-bump.sh", str(release.checkout))
    assert result.returncode != 0 and "rejected" in result.stderr
    assert git(release.origin, "log", "-1", "--format=%s", "master") == "meanwhile"


class RecordingGitServer:
    """An HTTP server on 127.0.0.1 standing in for the app repository's host: it asks for credentials (401) as
    GitHub does, records the Authorization header git then sends, and refuses the push (403)."""

    def __init__(self):
        self.authorizations: list[str] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                authorization = self.headers.get("Authorization")
                if authorization:
                    recorder.authorizations.append(authorization)
                self.send_response(403 if authorization else 401)
                self.send_header("WWW-Authenticate", 'Basic realm="GitHub"')
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/kafkajs/canary-app.git"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_the_bump_is_pushed_with_the_token_from_the_environment_only(release):
    server = RecordingGitServer()
    try:
        git(release.checkout, "remote", "set-url", "origin", server.url)
        result = release.run(
            "push-bump.sh", str(release.checkout), APP_REPOSITORY_TOKEN=APP_TOKEN, NO_PROXY="127.0.0.1"
        )
    finally:
        server.close()
    assert result.returncode != 0  # the stand-in refuses every push
    expected = "Basic " + base64.b64encode(f"x-access-token:{APP_TOKEN}".encode()).decode()
    assert server.authorizations and set(server.authorizations) == {expected}
    assert APP_TOKEN not in result.stdout + result.stderr + (release.checkout / ".git" / "config").read_text()


def test_a_new_tag_is_built_from_the_app_folder_with_our_dockerfile(release):
    tag = f"{VERSION}-5f5d22f1"
    release.ecr.write_text("1.16.0-beta.12-0a1b2c3d\n")
    dockerfile = str(ROOT / ".github" / "canary-app.Dockerfile")
    result = release.run("build-image.sh", "RegistryStack", dockerfile, str(release.app), tag)
    assert result.returncode == 0, result.stderr
    assert release.calls("docker") == [
        [
            "build",
            "--file",
            dockerfile,
            "--tag",
            f"{REPOSITORY_URI}:{tag}",
            "--tag",
            f"{REPOSITORY_URI}:latest",
            str(release.app),
        ]
    ]
    lookup = release.calls("aws")[-1]
    assert lookup[:4] == ["ecr", "describe-images", "--repository-name", "kafkajs-canary-app"]
    assert f"imageTag={tag}" in lookup
    assert "::warning::" not in result.stdout  # the app's Dockerfile is the one ours was derived from


def test_the_build_warns_when_the_apps_dockerfile_changed(release):
    (release.app / "Dockerfile").write_text(APP_DOCKERFILE.read_text().replace("node:12-alpine", "node:16-alpine"))
    dockerfile = str(ROOT / ".github" / "canary-app.Dockerfile")
    result = release.run("build-image.sh", "RegistryStack", dockerfile, str(release.app), f"{VERSION}-5f5d22f1")
    assert result.returncode == 0, result.stderr
    assert f"::warning::{release.app}/Dockerfile changed since {dockerfile} was derived from it" in result.stdout
    assert len(release.calls("docker")) == 1


def test_the_image_is_pushed_as_latest_then_as_its_release_tag(release):
    tag = f"{VERSION}-5f5d22f1"
    (release.root / "docker-images").write_text(f"{REPOSITORY_URI}:{tag}\n{REPOSITORY_URI}:latest\n")
    result = release.run("push-image.sh", "RegistryStack", tag)
    assert result.returncode == 0, result.stderr
    assert release.calls("docker") == [["push", f"{REPOSITORY_URI}:latest"], ["push", f"{REPOSITORY_URI}:{tag}"]]
    assert release.ecr_tags() == [tag]
    lookup = release.calls("aws")[-1]
    assert lookup[:4] == ["ecr", "describe-repositories", "--repository-names", "kafkajs-canary-app"]


@pytest.mark.parametrize(
    "mutability, exclusions, latest_moves",
    [
        ("IMMUTABLE", "", False),  # the registry with LatestTag none
        ("IMMUTABLE_WITH_EXCLUSION", "latest", True),  # with LatestTag mutable
        ("IMMUTABLE_WITH_EXCLUSION", "dev-* lat*", True),
        ("IMMUTABLE_WITH_EXCLUSION", "*", True),  # a pattern, never expanded to the names of files around
        ("IMMUTABLE_WITH_EXCLUSION", "dev-*", False),
        ("MUTABLE", "", True),
        ("MUTABLE_WITH_EXCLUSION", "latest", False),
    ],
)
def test_latest_is_pushed_only_where_the_repository_lets_it_move(release, mutability, exclusions, latest_moves):
    """The repository's own tag mutability decides, as ECR reports it: pushing latest where ECR keeps it immutable
    would fail once latest exists, and with it the release."""
    tag = f"{VERSION}-5f5d22f1"
    (release.root / "docker-images").write_text(f"{REPOSITORY_URI}:{tag}\n{REPOSITORY_URI}:latest\n")
    result = release.run("push-image.sh", "RegistryStack", tag, TAG_MUTABILITY=mutability, TAG_EXCLUSIONS=exclusions)
    assert result.returncode == 0, result.stderr
    pushed = [f"{REPOSITORY_URI}:latest"] * latest_moves + [f"{REPOSITORY_URI}:{tag}"]
    assert release.calls("docker") == [["push", image] for image in pushed]
    assert release.ecr_tags() == [tag]
    if not latest_moves:
        assert f"kafkajs-canary-app does not let latest move (its tag mutability is {mutability})" in result.stdout


def test_an_ecr_error_on_the_repository_stops_the_push_before_docker(release):
    denied = "An error occurred (AccessDeniedException) when calling the DescribeRepositories operation: denied"
    result = release.run("push-image.sh", "RegistryStack", f"{VERSION}-5f5d22f1", REPOSITORY_ERROR=denied)
    assert result.returncode == 1 and denied in result.stderr
    assert release.calls("docker") == []


@pytest.mark.parametrize("script, args", [("build-image.sh", ["Dockerfile", "app"]), ("push-image.sh", [])])
def test_a_tag_already_in_ecr_is_neither_built_nor_pushed_again(release, script, args):
    tag = f"{VERSION}-5f5d22f1"
    release.ecr.write_text(f"{tag}\n")
    result = release.run(script, "RegistryStack", *args, tag)
    assert result.returncode == 0, result.stderr
    assert release.calls("docker") == []
    assert f"{REPOSITORY_URI}:{tag} is already in ECR (sha256:0123abcd)" in result.stdout


@pytest.mark.parametrize("script, args", [("build-image.sh", ["Dockerfile", "app"]), ("push-image.sh", [])])
def test_an_aws_error_other_than_not_found_stops_before_docker(release, script, args):
    denied = "An error occurred (AccessDeniedException) when calling the DescribeStacks operation: denied"
    result = release.run(script, "RegistryStack", *args, "x-5f5d22f1", AWS_ERROR=denied)
    assert result.returncode != 0 and denied in result.stderr
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


# --- The workflow's jobs, run step by step from release.yml --------------------------------------------------

WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8"))


def evaluate(value: str, known: dict[str, str]) -> str:
    """A workflow value with its ${{ }} expressions replaced: the ones in known, and `vars.X || 'default'` (no
    repository variable is set here). Any other expression fails the test: it needs a value from the test."""

    def replace(match: re.Match) -> str:
        expression = match[1]
        if expression in known:
            return known[expression]
        default = re.fullmatch(r"vars\.\w+ \|\| '([^']*)'", expression)
        if default:
            return default[1]
        pytest.fail(f"no value for the expression ${{{{ {expression} }}}} in {value!r}")

    return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", replace, str(value))


def run_job(job: str, workspace: Path, known: dict[str, str], env: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """The job's `run` steps in their order, each as GitHub runs it (bash -e -o pipefail, the workflow's, job's and
    step's env, $GITHUB_OUTPUT), in workspace; the steps that use actions (checkouts, setup, AWS credentials) are
    what workspace and env stand for. Stops at the first failing step. Returns the steps' outputs by step id, and
    the name of the step that failed (None when none did)."""
    known = {"inputs.kafkajs_version": VERSION, **known}
    outputs: dict[str, str] = {}
    declared = {**WORKFLOW["env"], **WORKFLOW["jobs"][job].get("env", {})}
    base = {**env, **{name: evaluate(value, known) for name, value in declared.items()}}
    for step in WORKFLOW["jobs"][job]["steps"]:
        if "run" not in step:
            continue
        known.update({f"steps.{key}": value for key, value in outputs.items()})
        output_file = workspace / "github-output"
        output_file.write_text("")
        step_env = {name: evaluate(value, known) for name, value in step.get("env", {}).items()}
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=workspace,
            env={**base, **step_env, "GITHUB_OUTPUT": str(output_file)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        for line in output_file.read_text().splitlines():
            name, _, value = line.partition("=")
            outputs[f"{step['id']}.outputs.{name}"] = value
        if result.returncode:
            return outputs, step.get("name", step["run"])
    return outputs, None


def build_job(release: Release, fresh_checkout: bool = True, **env: str) -> tuple[str | None, str | None]:
    """A run of the build job on a fresh runner (no image built yet), the app repository checked out anew unless
    fresh_checkout is False; returns the image tag it made (None when it failed first) and the step that failed."""
    if fresh_checkout:
        release.check_out()
    (release.root / "docker-images").write_text("")
    known = {"secrets.APP_REPOSITORY_TOKEN": APP_TOKEN, "needs.plan.outputs.registry": "RegistryStack"}
    outputs, failed = run_job("build", release.root, known, {**release.env, **env})
    return outputs.get("tag.outputs.tag"), failed


def test_a_release_builds_once_records_the_bump_then_pushes_the_tag_naming_it(release):
    tag, failed = build_job(release)
    assert failed is None
    assert release.bump_commits() == [f"Update KafkaJS to {VERSION}"]
    assert tag == f"{VERSION}-{git(release.origin, 'rev-parse', 'master')[:8]}"
    assert [call[0] for call in release.calls("docker")] == ["build", "push", "push"]
    assert release.calls("docker")[0][1:3] == ["--file", ".github/canary-app.Dockerfile"]
    assert release.ecr_tags() == [tag]


def test_a_failed_build_leaves_the_app_repository_and_ecr_as_they_were_and_a_rerun_releases(release):
    tag, failed = build_job(release, DOCKER_BUILD_FAILS="1")
    assert failed == "Build the image"
    assert (release.bump_commits(), release.ecr_tags()) == ([], [])

    tag, failed = build_job(release)
    assert failed is None
    assert release.bump_commits() == [f"Update KafkaJS to {VERSION}"]
    assert release.ecr_tags() == [tag] and tag == f"{VERSION}-{git(release.origin, 'rev-parse', 'master')[:8]}"


def test_a_bump_refused_because_the_branch_moved_pushes_no_image_and_a_rerun_releases_on_top(release):
    move_the_branch(release)  # after the checkout
    _, failed = build_job(release, fresh_checkout=False)
    assert failed == "Record the bump in the app repository"
    assert release.ecr_tags() == [] and release.bump_commits() == ["meanwhile"]

    tag, failed = build_job(release)
    assert failed is None
    assert release.bump_commits() == [f"Update KafkaJS to {VERSION}", "meanwhile"]
    assert release.ecr_tags() == [tag]


def test_a_failed_image_push_is_picked_up_by_a_rerun_without_a_second_bump(release):
    tag, failed = build_job(release, DOCKER_PUSH_FAILS=f"*:{VERSION}-*")
    assert failed == "Push the image"
    assert release.bump_commits() == [f"Update KafkaJS to {VERSION}"] and release.ecr_tags() == []

    release.log.write_text("")
    rerun_tag, failed = build_job(release)
    assert failed is None and rerun_tag == tag
    assert release.bump_commits() == [f"Update KafkaJS to {VERSION}"]
    assert release.ecr_tags() == [tag]


def test_a_rerun_after_a_failed_deploy_builds_pushes_and_commits_nothing(release):
    tag, failed = build_job(release)
    assert failed is None
    release.log.write_text("")

    rerun_tag, failed = build_job(release)
    assert failed is None and rerun_tag == tag
    assert release.calls("docker") == []
    assert release.bump_commits() == [f"Update KafkaJS to {VERSION}"] and release.ecr_tags() == [tag]


# --- The plan: `deploy.py environments --json` into the deploy jobs' matrix ----------------------------------

ENVIRONMENTS = [
    {
        "name": "msk",
        "stack_name": "CanaryMsk",
        "region": "eu-central-1",
        "registry_stack_name": "CanaryRegistry",
        "parameter_prefix": "/canary/msk",
    },
    {
        "name": "confluent-cloud",
        "stack_name": "CanaryConfluent",
        "region": "eu-west-1",
        "registry_stack_name": "CanaryRegistry",
    },
]
# Stands in for the deployer in .venv: `deploy.py environments --json` prints $LISTED and exits $DEPLOYER_EXIT.
DEPLOYER = """#!/usr/bin/env bash
[[ "$*" == "deploy.py environments --json" ]] || { echo "unexpected: $*" >&2; exit 99; }
printf '%s\\n' "$LISTED"
exit "${DEPLOYER_EXIT:-0}"
"""


def plan_job(tmp_path: Path, listed: str, version: str = VERSION, **env: str) -> tuple[dict[str, str], str | None]:
    workspace = tmp_path / "workspace"
    (workspace / ".venv" / "bin").mkdir(parents=True)
    (workspace / ".venv" / "bin" / "python").write_text(DEPLOYER)
    (workspace / ".venv" / "bin" / "python").chmod(0o755)
    (workspace / ".github").symlink_to(ROOT / ".github")
    (workspace / "bin").mkdir()
    (workspace / "bin" / "make").write_text("#!/bin/sh\n")  # `make install`: the stub deployer is installed
    (workspace / "bin" / "make").chmod(0o755)
    known = {"secrets.APP_REPOSITORY_TOKEN != ''": "true", "inputs.kafkajs_version": version}
    path = f"{workspace / 'bin'}{os.pathsep}{os.environ['PATH']}"
    return run_job("plan", workspace, known, {"PATH": path, "LISTED": listed, **env})


def test_the_plan_turns_the_environments_into_the_matrix(tmp_path):
    outputs, failed = plan_job(tmp_path, json.dumps(ENVIRONMENTS, indent=2))
    assert failed is None
    matrix = outputs["environments.outputs.environments"]
    assert json.loads(matrix) == [{key: e[key] for key in ("name", "stack_name", "region")} for e in ENVIRONMENTS]
    assert "\n" not in matrix
    assert outputs["environments.outputs.registry"] == "CanaryRegistry"  # where the build pushes the image


@pytest.mark.parametrize(
    "listed, reason",
    [
        ("[]", "expected a non-empty JSON list of environments"),
        ('{"msk": {}}', "expected a non-empty JSON list of environments"),
        ("not json", "Expecting value"),
        ('[{"name": "msk", "stack_name": "CanaryMsk"}]', "each environment needs name, stack_name, region"),
        ('[{"name": "../msk", "stack_name": "S", "region": "eu-west-1"}]', "environment name '../msk'"),
        (json.dumps([ENVIRONMENTS[0], ENVIRONMENTS[0]]), "environment names repeat: msk, msk"),
        (
            json.dumps([ENVIRONMENTS[0], {**ENVIRONMENTS[1], "registry_stack_name": "Other"}]),
            "the environments name different registries (CanaryRegistry, Other)",
        ),
    ],
)
def test_a_list_unfit_for_the_matrix_fails_the_plan_in_one_line(listed, reason):
    result = subprocess.run(
        [str(SCRIPTS / "plan-environments.py")], input=listed, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and reason in result.stderr


def test_a_list_unfit_for_the_matrix_fails_the_plan_job_where_it_is_read(tmp_path):
    _, failed = plan_job(tmp_path, "[]")
    assert failed == "Read the environments"


def test_a_failing_deployer_fails_the_plan(tmp_path):
    _, failed = plan_job(tmp_path, json.dumps(ENVIRONMENTS), DEPLOYER_EXIT="2")
    assert failed == "Read the environments"


def test_the_plan_refuses_a_version_that_is_no_image_tag_before_anything(tmp_path):
    _, failed = plan_job(tmp_path, json.dumps(ENVIRONMENTS), version="1.0; touch pwned")
    assert failed == "Check the inputs" and not (tmp_path / "workspace" / "pwned").exists()


# --- The report: one table, a row per environment -----------------------------------------------------------

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
    "verdict": f"✅ canary healthy on {RELEASE_TAG}: ECS marked its deployment SUCCESSFUL after 12m40s (upper bound "
    "15m45s), and no deployment alarm fired since it started (max lag 42, tasks 1/1)",
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
    "verdict": f"❌ canary failed on {RELEASE_TAG}: CanaryMsk-consumer-lag Threshold Crossed: 5 datapoints [5120.0, "
    "5911.0, ...] were greater than the threshold (1000.0); ECS rolled back to 1.17.0-beta.2-0a1b2c3d",
    "watched_seconds": 0,
    "max_lag": 5911.0,
}
SILENT = {**HEALTHY, "max_lag": None, "running_tasks": 0, "verdict": f"✅ canary healthy on {RELEASE_TAG} ..."}


def report(tmp_path, verdicts: dict[str, tuple[int, dict | None] | None], **env):
    """report-verdicts.py as the report job runs it, each environment's folder as its deploy job left it
    (exit code, verdict file or none) or missing (None); returns its result and the run's summary."""
    verdict_dir = tmp_path / "verdicts"
    for name, left in verdicts.items():
        if left is not None:
            code, verdict = left
            (verdict_dir / name).mkdir(parents=True)
            (verdict_dir / name / "exit-code").write_text(f"{code}\n")
            if verdict is not None:
                (verdict_dir / name / "verdict.json").write_text(json.dumps(verdict))
    environments = json.dumps([{"name": name, "stack_name": name, "region": "eu-west-1"} for name in verdicts])
    summary = tmp_path / "summary.md"
    result = subprocess.run(
        [str(SCRIPTS / "report-verdicts.py"), RELEASE_TAG, environments, str(verdict_dir)],
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


def test_healthy_everywhere_passes_the_run_with_one_table_in_the_summary_and_slack(tmp_path, slack_webhook):
    result, summary = report(
        tmp_path, {"msk": (0, HEALTHY), "redpanda": (0, SILENT)}, SLACK_WEBHOOK_URL=slack_webhook.url
    )
    assert result.returncode == 0, result.stderr
    headline = f"✅ KafkaJS canary {RELEASE_TAG}: healthy in every environment (2)"
    assert summary == (
        f"## KafkaJS canary: {RELEASE_TAG}\n\n{headline}\n\n"
        "| environment | verdict | max lag | tasks | version |\n|---|---|---|---|---|\n"
        f"| msk | ✅ healthy | 42 | 1/1 | {RELEASE_TAG} |\n"
        f"| redpanda | ✅ healthy | none reported | 0/1 | {RELEASE_TAG} |\n"
    )
    assert slack_webhook.bodies == [
        {
            "text": f"{headline}\n```\n"
            "environment  verdict     max lag        tasks  version\n"
            f"msk          ✅ healthy  42             1/1    {RELEASE_TAG}\n"
            f"redpanda     ✅ healthy  none reported  0/1    {RELEASE_TAG}\n"
            f"```\n<{RUN_URL}|release run>"
        }
    ]
    assert slack_webhook.url not in result.stdout + result.stderr


def test_a_failed_unjudged_or_silent_environment_fails_the_run_with_a_row_and_its_reason(tmp_path, slack_webhook):
    verdicts = {"msk": (3, FAILED), "confluent": (0, HEALTHY), "redpanda": (1, None), "kafka-2-8": None}
    result, summary = report(tmp_path, verdicts, SLACK_WEBHOOK_URL=slack_webhook.url)
    assert result.returncode == 1
    headline = f"❌ KafkaJS canary {RELEASE_TAG}: not healthy in 3 of 4 environments (msk, redpanda, kafka-2-8)"
    table = summary.split("\n\n")[2].splitlines()
    assert summary.split("\n\n")[1] == headline
    assert table[2:] == [
        f"| msk | ❌ failed | 5911 | 1/1 | {RELEASE_TAG} |",
        f"| confluent | ✅ healthy | 42 | 1/1 | {RELEASE_TAG} |",
        "| redpanda | ❌ deploy failed (exit 1) | – | – | – |",
        "| kafka-2-8 | ❌ did not report | – | – | – |",
    ]
    assert summary.split("\n\n")[3].splitlines() == [
        f"- **msk**: {FAILED['verdict']}",
        "- **redpanda**: the deploy failed (exit 1) before the canary could be judged",
        "- **kafka-2-8**: its deploy job did not report (skipped, cancelled or failed)",
    ]
    (body,) = slack_webhook.bodies
    assert body["text"].startswith(headline + "\n```\n") and f"msk: {FAILED['verdict']}" in body["text"]
    assert len(body["text"].splitlines()) == 1 + 1 + 5 + 1 + 3 + 1  # headline, ```, table, ```, 3 reasons, link


def test_a_verdict_that_does_not_match_its_exit_code_is_not_healthy(tmp_path, slack_webhook):
    in_progress = {
        **HEALTHY,
        "outcome": "in progress",
        "verdict": f"⏳ canary on {RELEASE_TAG}: ECS is still deploying",
    }
    not_judged = {
        **HEALTHY,
        "outcome": "not judged",
        "verdict": f"⚠ canary not judged on {RELEASE_TAG}: CanaryMsk-consumer-lag was in ALARM when its deployment "
        "started, ...",
    }
    result, summary = report(
        tmp_path,
        {"msk": (0, HEALTHY), "msk-2": (1, in_progress), "msk-3": (141, HEALTHY), "msk-4": (5, not_judged)},
    )
    assert result.returncode == 1
    assert "| msk-2 | ⏳ in progress (exit 1) |" in summary and "| msk-3 | ✅ healthy (exit 141) |" in summary
    assert "| msk-4 | ⚠ not judged |" in summary and f"- **msk-4**: {not_judged['verdict']}" in summary


def test_without_the_webhook_secret_nothing_is_posted_and_the_verdicts_still_decide(tmp_path, slack_webhook):
    result, summary = report(tmp_path, {"msk": (3, FAILED)})
    assert (result.returncode, slack_webhook.bodies) == (1, [])
    assert "| msk | ❌ failed |" in summary and "msk          ❌ failed" in result.stdout


def test_a_slack_error_is_a_warning_and_the_verdicts_stand(tmp_path, slack_webhook):
    slack_webhook.status = 500
    result, _ = report(tmp_path, {"msk": (0, HEALTHY)}, SLACK_WEBHOOK_URL=slack_webhook.url)
    assert result.returncode == 0
    assert "::warning::Slack did not take the verdicts" in result.stdout and "500" in result.stderr


@pytest.mark.parametrize("args", [[], [RELEASE_TAG, "[]", "verdicts"], [RELEASE_TAG, "", "verdicts"]])
def test_report_refuses_missing_arguments_or_environments(args):
    result = subprocess.run([str(SCRIPTS / "report-verdicts.py"), *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and result.stderr.startswith("usage:")


def test_the_committed_environments_plan_with_the_workflows_region_where_they_name_none():
    """environments.toml's default canary names no region (it runs where AWS_REGION points): the plan gives it
    the workflow's region, and without one refuses in one line."""
    listed = subprocess.run(
        [sys.executable, str(ROOT / "deploy.py"), "environments", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"]},  # no AWS settings: the file alone
    ).stdout
    planned = subprocess.run(
        [str(SCRIPTS / "plan-environments.py"), "eu-west-1"], input=listed, capture_output=True, text=True, timeout=30
    )
    assert planned.returncode == 0, planned.stderr
    outputs = dict(line.split("=", 1) for line in planned.stdout.splitlines())
    assert {"name": "default", "stack_name": "AppStack", "region": "eu-west-1"} in json.loads(outputs["environments"])
    assert outputs["registry"] == "RegistryStack"
    unplanned = subprocess.run(
        [str(SCRIPTS / "plan-environments.py")], input=listed, capture_output=True, text=True, timeout=30
    )
    assert unplanned.returncode == 1 and "each environment needs name, stack_name, region" in unplanned.stderr
