"""The house rules of the service layer: domain logic with no web framework inside."""

import ast

import pytest

from webapp.settings import PROJECT_ROOT

SERVICE_MODULES = sorted((PROJECT_ROOT / "webapp" / "services").rglob("*.py"))


def imported_modules(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", SERVICE_MODULES, ids=lambda path: str(path.relative_to(PROJECT_ROOT)))
def test_services_import_no_flask(path):
    """Services take a session and raise DomainErrors; requests, sessions and apps stay in the web layer."""
    web_imports = {name for name in imported_modules(path) if name.split(".")[0].startswith(("flask", "werkzeug"))}
    web_imports |= {name for name in imported_modules(path) if name in {"webapp.db", "webapp.access", "webapp.errors"}}
    assert web_imports == set()


def test_every_service_error_is_a_domain_error():
    """One base for every refusal, so the web layer and the CLI each answer them in one place."""
    import importlib
    import inspect

    from webapp.services.errors import DomainError

    for path in SERVICE_MODULES:
        module_name = ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, Exception) and value.__module__ == module_name:
                is_verdict = hasattr(value, "verdict")  # token rejections are verdicts, not refusals
                assert is_verdict or issubclass(value, DomainError), f"{module_name}.{name} is not a DomainError"
