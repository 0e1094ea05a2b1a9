"""Two import-linter contract types of our own, registered in ``.importlinter``.

* ``acyclic_modules``: no import cycle between any two modules of the root packages (import-linter's
  own ``acyclic_siblings`` works on packages, and a domain package holds both its views, which sit
  above every service, and its models, which sit below them, so package-level loops are expected).
* ``own_models``: a domain imports another domain's ``models`` only for shared enums (statuses,
  roles, kinds) or for the names listed, with the reason, in ``allowed_names``: another domain's
  tables are read and written through its service.

``lint-imports`` runs from the repository root, which it puts on ``sys.path``; so this module is
``scripts.import_contracts``.
"""

from __future__ import annotations

import ast
import enum
import importlib
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grimp
from importlinter.application import contract_utils, output
from importlinter.application.contract_utils import AlertLevel
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck
from scripts.import_health import cycles, loop


class AcyclicModulesContract(Contract):
    """No strongly connected group of modules (a cycle) once ``ignore_imports`` are removed."""

    type_name = "acyclic_modules"

    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)
    unmatched_ignore_imports_alerting = fields.EnumField(AlertLevel, default=AlertLevel.ERROR)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=self.ignore_imports,  # type: ignore[arg-type]
            unmatched_alerting=self.unmatched_ignore_imports_alerting,  # type: ignore[arg-type]
        )
        found = cycles(graph)
        return ContractCheck(
            kept=not found,
            warnings=list(removal.warnings),
            ignored_import_count=removal.ignored_import_count,
            metadata={"cycles": [(component, loop(graph, component)) for component in found]},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        for component, path in check.metadata["cycles"]:
            output.print_error(f"{len(component)} modules import each other: {', '.join(component)}")
            output.print_error("-   e.g. " + " -> ".join(path), bold=False)
            output.new_line()


def _imported_names(module_file: Path, line_number: int, imported: str) -> list[str]:
    """The names an import statement at ``line_number`` takes from ``imported`` (``*`` for the
    module itself: ``import a.b`` or ``from a import b``)."""
    tree = ast.parse(module_file.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) != line_number:
            continue
        if isinstance(node, ast.ImportFrom) and node.module == imported:
            return [alias.name for alias in node.names]
        if isinstance(node, ast.Import | ast.ImportFrom):
            return ["*"]
    return ["*"]


def _module_file(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ValueError(f"cannot find the source of {module}")
    return Path(spec.origin)


class OwnModelsContract(Contract):
    """Another domain's ``models``: shared enums only, or a listed name."""

    type_name = "own_models"

    domains = fields.ListField(subfield=fields.StringField())
    shared_enums = fields.ListField(subfield=fields.StringField())
    # "importer -> package.models.Name": each with the reason beside it in the config.
    allowed_names = fields.ListField(subfield=fields.StringField(), required=False)

    def _domain_of(self, module: str) -> str | None:
        for domain in self.domains:  # type: ignore[attr-defined]
            if module == domain or module.startswith(domain + "."):
                return domain
        return None

    def _check_enums(self) -> None:
        for qualified in self.shared_enums:  # type: ignore[attr-defined]
            module, _, name = qualified.rpartition(".")
            value: Any = getattr(importlib.import_module(module), name, None)
            if not (isinstance(value, type) and issubclass(value, enum.Enum)):
                raise ValueError(f"shared_enums lists {qualified}, which is not an enum")

    def _model_imports(self, graph: grimp.ImportGraph) -> Iterator[tuple[str, str, int, str]]:
        for importer in sorted(graph.modules):
            home = self._domain_of(importer)
            if home is None:
                continue
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                owner = self._domain_of(imported)
                if owner is None or owner == home or imported.rpartition(".")[2] != "models":
                    continue
                for detail in graph.get_import_details(importer=importer, imported=imported):
                    line = int(detail["line_number"])
                    for name in _imported_names(_module_file(importer), line, imported):
                        yield importer, imported, line, name

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        self._check_enums()
        shared = set(self.shared_enums)  # type: ignore[attr-defined]
        allowed = {a.replace(" ", "") for a in (self.allowed_names or [])}  # type: ignore[attr-defined]
        used_allowances: set[str] = set()
        broken = []
        for importer, imported, line, name in self._model_imports(graph):
            qualified = f"{imported}.{name}"
            allowance = f"{importer}->{qualified}"
            if qualified in shared:
                continue
            if allowance in allowed:
                used_allowances.add(allowance)
                continue
            broken.append(f"{importer}:{line} imports {qualified}")
        stale = sorted(allowed - used_allowances)
        return ContractCheck(
            kept=not broken and not stale,
            warnings=[],
            metadata={"broken": broken, "stale": stale},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        for line in check.metadata["broken"]:
            output.print_error(f"-   {line}: not a shared enum; go through the owning domain's service")
        for allowance in check.metadata["stale"]:
            output.print_error(f"-   allowed_names lists {allowance}, which no longer happens: remove it")
        output.new_line()
