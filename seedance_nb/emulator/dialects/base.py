"""The base class every dialect subclasses, apart from the registry that imports the dialects.

Kept out of ``dialects/__init__.py`` so that a dialect module does not import the package
that imports it (``mount_all`` loads each dialect by name): no ``dialects`` ⇄ dialect cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ... import catalog

if TYPE_CHECKING:
    from ..http_types import Request, Response
    from ..service import Service

__all__ = ["DialectRoutes"]


class DialectError(Exception):
    """An error answer of a dialect: HTTP status, the provider's code, a message, the
    offending parameter, and headers to send with it; each dialect renders its own envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        param: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.param = status, code, message, param
        self.headers = dict(headers or {})


class DialectRoutes:
    """Base class of a mounted dialect: one instance per provider mount."""

    name: ClassVar[str] = ""

    def __init__(self, service: Service, provider: catalog.Provider) -> None:
        self.service = service
        self.provider = provider
        self.prefix = provider.emulator_prefix

    def handle(self, req: Request) -> Response:  # pragma: no cover - interface
        raise NotImplementedError
