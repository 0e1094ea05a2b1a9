"""The import contracts of our own (scripts/import_contracts.py) fail on what they forbid, and the
measuring script finds cycles and the function-local imports that hide them."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest
from scripts.import_contracts import AcyclicModulesContract, OwnModelsContract
from scripts.import_health import cycles


@pytest.fixture
def package(tmp_path: Path) -> Iterator[Path]:
    """An empty package ``shop13`` on sys.path; tests write its modules."""
    root = tmp_path / "shop13"
    root.mkdir()
    (root / "__init__.py").write_text("")
    sys.path.insert(0, str(tmp_path))
    yield root
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m == "shop13" or m.startswith("shop13.")]:
        del sys.modules[name]


def _write(root: Path, module: str, source: str) -> None:
    path = root.joinpath(*module.split("."))
    if not path.parent.exists():
        path.parent.mkdir(parents=True)
        (path.parent / "__init__.py").write_text("")
    path.with_suffix(".py").write_text(textwrap.dedent(source))


def _acyclic(ignore: list[str] | None = None) -> AcyclicModulesContract:
    options = {"ignore_imports": ignore} if ignore else {}
    return AcyclicModulesContract(name="no cycles", session_options={}, contract_options=options)


def test_a_cycle_through_a_function_local_import_breaks_the_contract(package: Path) -> None:
    _write(package, "orders", "from shop13 import refunds\n")
    _write(package, "refunds", "def hold():\n    from shop13 import orders\n    return orders\n")
    _write(package, "ledger", "from shop13 import orders\n")
    graph = grimp.build_graph("shop13", cache_dir=None)
    assert cycles(graph) == [["shop13.orders", "shop13.refunds"]]
    check = _acyclic().check(graph, verbose=False)
    assert not check.kept
    component, loop = check.metadata["cycles"][0]
    assert component == ["shop13.orders", "shop13.refunds"] and loop[0] == loop[-1]
    assert (
        _acyclic(["shop13.refunds -> shop13.orders"])
        .check(grimp.build_graph("shop13", cache_dir=None), verbose=False)
        .kept
    )


def test_another_domains_models_only_for_listed_enums(package: Path) -> None:
    _write(
        package,
        "users.models",
        "import enum\nclass Role(enum.StrEnum):\n    buyer = 'buyer'\nclass User:\n    pass\n",
    )
    _write(package, "shops.service", "from shop13.users.models import Role\n")
    options = {"domains": ["shop13.users", "shop13.shops"], "shared_enums": ["shop13.users.models.Role"]}
    contract = OwnModelsContract(name="own models", session_options={}, contract_options=options)
    assert contract.check(grimp.build_graph("shop13", cache_dir=None), verbose=False).kept
    _write(package, "shops.service", "from shop13.users.models import (\n    Role,\n    User,\n)\n")
    check = contract.check(grimp.build_graph("shop13", cache_dir=None), verbose=False)
    assert not check.kept and check.metadata["broken"] == [
        "shop13.shops.service:1 imports shop13.users.models.User"
    ]
    allowed = {**options, "allowed_names": ["shop13.shops.service -> shop13.users.models.User"]}
    contract = OwnModelsContract(name="own models", session_options={}, contract_options=allowed)
    assert contract.check(grimp.build_graph("shop13", cache_dir=None), verbose=False).kept
    _write(package, "shops.service", "from shop13.users.models import Role\n")
    check = contract.check(grimp.build_graph("shop13", cache_dir=None), verbose=False)
    assert not check.kept and check.metadata["stale"] == ["shop13.shops.service->shop13.users.models.User"]
    # A row class listed as an enum is refused.
    wrong = {**options, "shared_enums": ["shop13.users.models.User"]}
    with pytest.raises(ValueError, match="not an enum"):
        OwnModelsContract(name="own models", session_options={}, contract_options=wrong).check(
            grimp.build_graph("shop13", cache_dir=None), verbose=False
        )
