#!/usr/bin/env python3
"""Fill in deploy/nginx/carte.conf for one site: `python3 deploy/render.py nginx --help`.

Standard library only (the operator may run it with the system Python). Fails on a placeholder
left unfilled or an option it does not know, rather than write a half-filled file.
"""

from __future__ import annotations

import argparse
import re
import runpy
import sys
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent
PROJECT_ROOT = DEPLOY.parent
NGINX_TEMPLATE = DEPLOY / "nginx" / "carte.conf"
PLACEHOLDER = re.compile(r"\{\{ ([A-Z_]+) \}\}")
# The import form around its file (webapp/security.py UPLOAD_OVERHEAD_BYTES).
UPLOAD_OVERHEAD_BYTES = 64 * 1024
# The holder's photo upload (webapp/services/register/photos.py: 2 x MAX_UPLOAD_BYTES of 5 MB).
PHOTO_UPLOAD_BODY_LIMIT = 10 * 1024 * 1024


def default_import_max_bytes() -> int:
    """REGISTER_IMPORT_MAX_BYTES of config/defaults.py (set --import-max-bytes if carte.env changes it)."""
    return int(runpy.run_path(str(PROJECT_ROOT / "config" / "defaults.py"))["REGISTER_IMPORT_MAX_BYTES"])


def photo_max_body_bytes() -> int:
    """The photo upload's body limit as the app computes it (webapp/services/register/photos.py
    UPLOAD_BODY_LIMIT plus the form), with one more form's room: the app's own 413 answers first."""
    return PHOTO_UPLOAD_BODY_LIMIT + 2 * UPLOAD_OVERHEAD_BYTES


def render(template: str, values: dict[str, str]) -> str:
    """The template with every placeholder filled; ValueError names any left without a value."""
    missing = sorted({name for name in PLACEHOLDER.findall(template) if name not in values})
    if missing:
        raise ValueError(f"no value for {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def nginx_values(
    *,
    server_name: str,
    certificate: str,
    certificate_key: str,
    app_root: str,
    upstreams: list[str],
    https_port: int = 443,
    http_port: int = 80,
    import_max_bytes: int | None = None,
) -> dict[str, str]:
    if not upstreams:
        raise ValueError("give at least one --upstream HOST:PORT (one a gunicorn instance)")
    limit = (import_max_bytes if import_max_bytes is not None else default_import_max_bytes()) + UPLOAD_OVERHEAD_BYTES
    return {
        "SERVER_NAME": server_name,
        "TLS_CERTIFICATE": certificate,
        "TLS_CERTIFICATE_KEY": certificate_key,
        "APP_ROOT": app_root.rstrip("/"),
        "UPSTREAM_SERVERS": "\n".join(f"    server {address} max_fails=1 fail_timeout=10s;" for address in upstreams),
        "HTTPS_PORT": str(https_port),
        "HTTP_PORT": str(http_port),
        "HTTPS_PORT_SUFFIX": "" if https_port == 443 else f":{https_port}",
        "IMPORT_MAX_BODY_BYTES": str(limit),
        "PHOTO_MAX_BODY_BYTES": str(photo_max_body_bytes()),
    }


def render_nginx(**options: object) -> str:
    return render(NGINX_TEMPLATE.read_text(encoding="utf-8"), nginx_values(**options))  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    nginx = commands.add_parser("nginx", help="the nginx site file, on standard output")
    nginx.add_argument("--server-name", required=True, help="the public name, as in PUBLIC_BASE_URL")
    nginx.add_argument("--certificate", required=True, help="TLS certificate chain (PEM)")
    nginx.add_argument("--certificate-key", required=True, help="its private key (PEM)")
    nginx.add_argument("--app-root", required=True, help="the checkout: its static/ folder is served by nginx")
    nginx.add_argument("--upstream", action="append", default=[], help="a gunicorn instance, HOST:PORT (repeat)")
    nginx.add_argument("--https-port", type=int, default=443)
    nginx.add_argument("--http-port", type=int, default=80)
    nginx.add_argument("--import-max-bytes", type=int, help="REGISTER_IMPORT_MAX_BYTES if carte.env changes it")
    arguments = parser.parse_args(argv)
    try:
        sys.stdout.write(
            render_nginx(
                server_name=arguments.server_name,
                certificate=arguments.certificate,
                certificate_key=arguments.certificate_key,
                app_root=arguments.app_root,
                upstreams=arguments.upstream,
                https_port=arguments.https_port,
                http_port=arguments.http_port,
                import_max_bytes=arguments.import_max_bytes,
            )
        )
    except ValueError as problem:
        print(f"render.py: {problem}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
