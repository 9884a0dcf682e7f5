"""The image the release builds: .github/canary-app.Dockerfile, on the app's folder as the build context.

There is no Docker daemon here, so its builder stage runs as Docker runs it, one instruction at a time, in a
temporary directory: WORKDIR, COPY from the build context (a small app shaped like kafkajs/canary-app's `app/`)
and each RUN through `/bin/sh -c`, with `apk`, `npm` and `curl` stubbed on PATH (they would reach Alpine's
mirrors, the npm registry and the internet). The runtime stage's COPYs then assemble what the image holds. The
app's own Dockerfile, kept as it is upstream (tests/fixtures/canary-app-5f5d22f7/Dockerfile, from
kafkajs/canary-app commit 5f5d22f7e4f5eb0befa8b196761726ea5ccf9f58), fails there as it fails on Docker today.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = ROOT / ".github" / "canary-app.Dockerfile"
UPSTREAM = Path(__file__).resolve().parents[1] / "fixtures" / "canary-app-5f5d22f7" / "Dockerfile"
UPSTREAM_COMMIT = "5f5d22f7e4f5eb0befa8b196761726ea5ccf9f58"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str

    def __str__(self) -> str:
        return f"{self.keyword} {self.arguments}"


@dataclass(frozen=True)
class Stage:
    base: str
    name: str
    instructions: tuple[Instruction, ...]

    def all(self, keyword: str) -> list[str]:
        return [i.arguments for i in self.instructions if i.keyword == keyword]


def instructions(text: str) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments and blank lines left out."""
    parsed, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        parsed.append(Instruction(keyword.upper(), arguments.strip()))
        pending = ""
    return parsed


def stages(dockerfile: Path) -> list[Stage]:
    found: list[Stage] = []
    for instruction in instructions(dockerfile.read_text(encoding="utf-8")):
        if instruction.keyword == "FROM":
            base, _, name = instruction.arguments.partition(" AS ")
            found.append(Stage(base.strip(), name.strip(), ()))
        else:
            last = found[-1]
            found[-1] = Stage(last.base, last.name, (*last.instructions, instruction))
    return found


# --- A stand-in build context: the app's folder, shaped like kafkajs/canary-app's app/ ---------------------

APP_DEPENDENCIES = {"kafkajs": "1.16.0-beta.12", "config": "3.3.1"}
APP_DEV_DEPENDENCIES = {"typescript": "3.9.7"}


def write_app(folder: Path) -> None:
    """package.json, a version-1 lockfile, the TypeScript configs, the sources (with a spec the build leaves
    out) and the runtime config, as the app's folder holds them."""
    files = {
        "package.json": {
            "name": "kafkajs-canary-app",
            "scripts": {"build": "tsc -p tsconfig.build.json"},
            "dependencies": {name: f"^{version}" for name, version in APP_DEPENDENCIES.items()},
            "devDependencies": {name: f"^{version}" for name, version in APP_DEV_DEPENDENCIES.items()},
        },
        "package-lock.json": {
            "name": "kafkajs-canary-app",
            "lockfileVersion": 1,
            "requires": True,
            "dependencies": {
                **{name: {"version": version} for name, version in APP_DEPENDENCIES.items()},
                **{name: {"version": version, "dev": True} for name, version in APP_DEV_DEPENDENCIES.items()},
            },
        },
        "tsconfig.json": {"compilerOptions": {"outDir": "./build"}},
        "tsconfig.build.json": {"extends": "./tsconfig.json", "include": ["src"], "exclude": ["**/*.spec.ts"]},
        "config/default.json": {"metrics": {"namespace": "kafkajs-canary-app"}},
        "src/index.ts": "import { start } from './app'\nstart()\n",
        "src/app.ts": "export const start = () => {}\n",
        "src/bin/healthcheck.ts": "process.exit(0)\n",
        "src/test.spec.ts": "test('start', () => {})\n",
        ".dockerignore": "node_modules/",
    }
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))


# --- Stubs for what the builder's RUN steps call -------------------------------------------------------------

# npm 6 as the builder runs it, on the folder it runs in: `ci` installs the lockfile's packages (it reads
# lockfile version 1 only), `run build` compiles src/ to build/ as tsc would (it needs typescript, a dev
# dependency, installed), `prune --production` removes the dev dependencies.
NPM = r"""
import json, pathlib, sys
here = pathlib.Path.cwd()
args = sys.argv[1:]
def lockfile():
    return json.loads((here / "package-lock.json").read_text())
if args == ["ci"]:
    lock = lockfile()
    if lock.get("lockfileVersion") != 1:
        sys.exit("npm ERR! cipm can only install packages with an existing package-lock.json (lockfile version 1)")
    for name, entry in lock["dependencies"].items():
        package = here / "node_modules" / name
        package.mkdir(parents=True)
        (package / "package.json").write_text(json.dumps({"name": name, "version": entry["version"]}))
        (package / "index.js").write_text("module.exports = {}\n")
elif args == ["run", "build"]:
    if not (here / "node_modules" / "typescript").is_dir():
        sys.exit("sh: tsc: not found")
    for config in ("tsconfig.json", "tsconfig.build.json"):
        if not (here / config).is_file():
            sys.exit(f"error TS5058: The specified path does not exist: '{config}'")
    for source in (here / "src").rglob("*.ts"):
        if not source.name.endswith(".spec.ts"):
            target = here / "build" / source.relative_to(here / "src").with_suffix(".js")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("// compiled\n")
elif args == ["prune", "--production"]:
    for name, entry in lockfile()["dependencies"].items():
        if entry.get("dev"):
            __import__("shutil").rmtree(here / "node_modules" / name)
else:
    sys.exit(f"the npm stub does not know `npm {' '.join(args)}`")
"""
STUBS = {
    "npm": f"#!{sys.executable}\n{NPM}",
    # Alpine's package manager: the packages are installed (nothing the test needs from them).
    "apk": "#!/bin/sh\nexit 0\n",
    # install.goreleaser.com no longer answers: `curl -sf` prints nothing and exits non-zero.
    "curl": "#!/bin/sh\nexit 6\n",
}


class BuildFailed(Exception):
    def __init__(self, instruction: Instruction, result: subprocess.CompletedProcess):
        super().__init__(f"{instruction} exited {result.returncode}: {result.stderr.strip()}")
        self.instruction = instruction
        self.result = result


def copy(arguments: str, context: Path, stage_roots: dict[str, Path], workdir: Path) -> None:
    """COPY [--from=STAGE] SOURCE... DEST: a directory source copies its contents, as Docker does."""
    words = arguments.split()
    source_root = context
    if words[0].startswith("--from="):
        source_root = stage_roots[words.pop(0).removeprefix("--from=")]
    *sources, destination = words
    target = workdir / destination
    for source in sources:
        matches = sorted(glob.glob(str(source_root / source.lstrip("/"))))
        if not matches:
            raise FileNotFoundError(f"COPY {arguments}: {source} matches nothing")
        for match in map(Path, matches):
            if match.is_dir():
                shutil.copytree(match, target, dirs_exist_ok=True)
            else:
                folder = target if destination.endswith("/") or len(sources) > 1 else target.parent
                folder.mkdir(parents=True, exist_ok=True)
                shutil.copy2(match, folder / match.name if folder == target else target)


def build(dockerfile: Path, context: Path, root: Path) -> Path:
    """Runs the builder stage (WORKDIR, COPY, RUN) under root/builder, then the runtime stage's WORKDIR
    and COPYs under root/image; returns the image's working directory. Raises BuildFailed at the first RUN
    that fails. The runtime stage's own RUN (chown, apk add tini) is not run: its contract is checked as text."""
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True)
    for name, body in STUBS.items():
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    builder, image = stages(dockerfile)
    roots = {builder.name: root / "builder", "": root / "image"}
    for folder in roots.values():
        folder.mkdir()
    environment = {"PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin", "HOME": str(root)}
    workdir = roots[builder.name]
    for instruction in builder.instructions:
        if instruction.keyword == "WORKDIR":
            workdir = roots[builder.name] / instruction.arguments.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif instruction.keyword == "COPY":
            copy(instruction.arguments, context, roots, workdir)
        elif instruction.keyword == "RUN":
            result = subprocess.run(
                ["/bin/sh", "-c", instruction.arguments],
                cwd=workdir,
                env=environment,
                capture_output=True,
                text=True,
                timeout=30,
            )
            if result.returncode:
                raise BuildFailed(instruction, result)
        else:
            pytest.fail(f"this emulation does not run {instruction.keyword} in a builder stage")
    workdir = roots[""]
    for instruction in image.instructions:
        if instruction.keyword == "WORKDIR":
            workdir = roots[""] / instruction.arguments.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif instruction.keyword == "COPY":
            copy(instruction.arguments, context, roots, workdir)
    return workdir


@pytest.fixture
def context(tmp_path) -> Path:
    folder = tmp_path / "app"
    write_app(folder)
    return folder


def test_the_image_holds_the_built_app_its_runtime_dependencies_and_config(context, tmp_path):
    workdir = build(OURS, context, tmp_path / "build")
    assert sorted(p.relative_to(workdir / "build").as_posix() for p in (workdir / "build").rglob("*.js")) == [
        "app.js",
        "bin/healthcheck.js",
        "index.js",
    ]
    assert sorted(p.name for p in (workdir / "node_modules").iterdir()) == sorted(APP_DEPENDENCIES)
    assert (workdir / "config" / "default.json").is_file()


def test_what_the_image_runs_is_in_it(context, tmp_path):
    (image,) = [stage for stage in stages(OURS) if not stage.name]
    workdir = build(OURS, context, tmp_path / "build")
    entrypoint = json.loads(image.all("ENTRYPOINT")[0])
    healthcheck = image.all("HEALTHCHECK")[0].split(" CMD ")[1].split()
    for command in (entrypoint[entrypoint.index("node") :], healthcheck):
        assert command[0] == "node" and (workdir / command[1]).is_file(), command


def test_the_builder_touches_nothing_outside_its_working_directory():
    """So that running its steps here cannot reach this machine's files, and in the image stays in WORKDIR."""
    (builder, _) = stages(OURS)
    assert [run for run in builder.all("RUN") if re.search(r"(^|\s)/", run)] == []


def test_the_apps_own_dockerfile_fails_at_node_prune(context, tmp_path):
    """As on Docker today: the installer's download fails silently, `bash` runs an empty script, and the
    prune step finds no node-prune."""
    with pytest.raises(BuildFailed) as failed:
        build(UPSTREAM, context, tmp_path / "build")
    assert str(failed.value.instruction) == "RUN /usr/local/bin/node-prune"
    assert failed.value.result.returncode == 127 and "not found" in failed.value.result.stderr


def test_ours_is_the_apps_dockerfile_less_node_prune_and_its_installers_tools():
    upstream = instructions(UPSTREAM.read_text(encoding="utf-8"))
    expected = [
        Instruction("RUN", "apk update && apk add git") if str(i) == "RUN apk update && apk add curl bash git" else i
        for i in upstream
        if "node-prune" not in i.arguments
    ]
    assert len(expected) == len(upstream) - 2
    assert instructions(OURS.read_text(encoding="utf-8")) == expected


def test_ours_names_the_blob_and_commit_of_the_apps_dockerfile_it_was_derived_from():
    """The release compares the app's Dockerfile with this blob (build-image.sh) and warns when it changed."""
    blob = subprocess.run(["git", "hash-object", str(UPSTREAM)], capture_output=True, text=True, check=True).stdout
    derived_from = re.search(
        r"^# derived-from: kafkajs/canary-app app/Dockerfile blob (\w+) \(commit (\w+)\)$",
        OURS.read_text(encoding="utf-8"),
        re.M,
    )
    assert derived_from and derived_from[1] == blob.strip() and UPSTREAM_COMMIT.startswith(derived_from[2])


def test_the_image_keeps_the_apps_contract():
    """What the app needs from its image, as its own Dockerfile gives it: node:12-alpine (npm 6: `npm ci` on a
    version-1 lockfile), the user `node`, tini as PID 1, WORKDIR /usr/src/app and its health check script,
    NODE_ENV=production, port 3000."""
    builder, image = stages(OURS)
    assert builder.base == image.base == "node:12-alpine"
    assert "npm ci" in builder.all("RUN")
    assert image.all("WORKDIR") == ["/usr/src/app"] and image.all("USER") == ["node"]
    assert json.loads(image.all("ENTRYPOINT")[0]) == ["/sbin/tini", "--", "node", "build/index.js"]
    assert any("apk add --no-cache tini" in run for run in image.all("RUN"))
    assert image.all("HEALTHCHECK") == [
        "--interval=3s --timeout=3s --start-period=30s CMD node build/bin/healthcheck.js"
    ]
    assert "NODE_ENV=production" in image.all("ENV") and image.all("EXPOSE") == ["3000"]
