"""Pagination links (RFC 8288): ``Link: <…offset=20>; rel="next", <…>; rel="prev", <…>; rel="first", <…>; rel="last"``.

Every paginated list (``limit``/``offset``) sends them, so that a client walks the pages without computing offsets;
the URLs keep every other parameter of the request.
"""

from __future__ import annotations

from fastapi import Request, Response

__all__ = ["link_header", "set_links"]


def link_header(request: Request, offset: int, limit: int, total: int) -> str:
    """The ``Link`` header value of the page ``[offset, offset + limit)`` of ``total`` items."""
    limit = max(limit, 1)
    last = max(total - 1, 0) // limit * limit
    pages = {"first": 0, "last": last}
    if offset > 0:
        pages["prev"] = max(min(offset - limit, last), 0)
    if offset + limit < total:
        pages["next"] = offset + limit
    links = []
    for rel in ("next", "prev", "first", "last"):
        if rel in pages:
            links.append(f'<{request.url.include_query_params(offset=pages[rel], limit=limit)}>; rel="{rel}"')
    return ", ".join(links)


def set_links(response: Response, request: Request, offset: int, limit: int, total: int) -> None:
    """Add the pagination ``Link`` header to ``response``."""
    response.headers["Link"] = link_header(request, offset, limit, total)
