"""How a patch of moto is declared and applied (the patches themselves: `local_aws.patches`).

A `Patch` names moto's attribute by its import path and its replacement, a function at module level in
this package's module of that service. A replacement that `wraps` is called with what it replaces first
(moto's own, or an earlier patch's of the same attribute), then the usual arguments:

    def put_image(put_image_of_moto, self, repository_name, *args, **kwargs): ...

A `Model` adds a CloudFormation resource type that moto lacks (moto finds the models among the subclasses
of its CloudFormationModel); it is named by import path, as its module imports moto.

moto is imported only when the patches are applied: `import local_aws` stays cheap for what needs no server.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import LocalAWSError


def _resolve(path: str) -> tuple[Any, str]:
    """("moto.ecr.models:ECRBackend.put_image") -> (ECRBackend, "put_image")."""
    module_name, _, qualified = path.partition(":")
    *owners, name = qualified.split(".")
    owner: Any = importlib.import_module(module_name)
    for attribute in owners:
        owner = getattr(owner, attribute)
    return owner, name


def _calling_with(replacement: Callable, replaced: Callable) -> Callable:
    """The function that calls `replacement` with `replaced` first; named as what it replaces, which is
    what moto's dispatch and the next wrapper see."""

    @functools.wraps(replaced)
    def patched(*args: Any, **kwargs: Any) -> Any:
        return replacement(replaced, *args, **kwargs)

    return patched


@dataclass(frozen=True)
class Patch:
    """moto's `target` ("module:Class.attribute") replaced by `replacement`, which models `aws` as `doc`
    documents it (an empty doc: a patch for speed, which changes no answer)."""

    target: str
    replacement: Callable
    aws: str
    doc: str
    wraps: bool = False

    def apply(self) -> None:
        owner, name = _resolve(self.target)
        current = inspect.getattr_static(owner, name, None)
        # A classmethod, staticmethod or property stays one; the function inside is what is wrapped.
        kind = type(current) if isinstance(current, classmethod | staticmethod | property) else None
        replaced = current.fget if isinstance(current, property) else getattr(current, "__func__", current)
        if self.wraps and replaced is None:
            raise LocalAWSError(f"{self.target}: moto has no such attribute to wrap; its internals changed")
        function = _calling_with(self.replacement, replaced) if self.wraps else self.replacement
        setattr(owner, name, kind(function) if kind else function)


class FromProperties:
    """Mixed into a model made as `cls(account_id, region_name, properties)` from its resource's Properties
    (moto lists only the direct subclasses of its CloudFormationModel: a mixin, not a base class)."""

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        return cls(account_id, region_name, cloudformation_json["Properties"])


@dataclass(frozen=True)
class Model:
    """The CloudFormation resource type `resource_type`, modelled by the class at `model` ("module:Class"),
    which moto skips (`aws`: what AWS does with it, as `doc` documents)."""

    resource_type: str
    model: str
    aws: str
    doc: str

    def apply(self) -> None:
        from moto.cloudformation import parsing

        module_name, _, class_name = self.model.partition(":")
        model = getattr(importlib.import_module(module_name), class_name)
        # moto caches the list of CloudFormationModel subclasses: forget the one made before the import.
        for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
            cached.cache_clear()
        if parsing.get_model_map().get(self.resource_type) is not model:
            raise LocalAWSError(f"moto does not pick up the {self.resource_type} model: its model lookup changed")
