"""The engine: settings, HTTP, the ledger, creating, polling and downloading jobs.

``AsyncClient`` (in ``engine.client``) assembles the parts; faces (``Client``, the CLI, the
Jupyter layer) use it and ``Job``.
"""
