"""The rss kind against a real HTTP server on 127.0.0.1 (RSS 2.0, Atom, a Japanese feed)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from collectors.sources.base import SourceError, build_source
from collectors.sources.rss import strip_html

NOW = datetime(2025, 6, 13, 12, 0, tzinfo=UTC)

RSS_JA = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>カフェニュース</title>
    <link>https://news.example/</link>
    <description>カフェ業界のニュース</description>
    <language>ja-JP</language>
    <item>
      <title>ノロシ珈琲、新作ほうじ茶ラテを発売</title>
      <link>https://news.example/articles/101</link>
      <guid isPermaLink="false">news-101</guid>
      <pubDate>Fri, 13 Jun 2025 09:30:00 +0900</pubDate>
      <dc:creator>山田 花子</dc:creator>
      <description><![CDATA[<p>ノロシ珈琲は<b>13日</b>、新作を発売した。&amp; 全国で&nbsp;販売。</p>
        <script>x()</script>]]></description>
    </item>
    <item>
      <title>ノロシ珈琲 渋谷店でイベント</title>
      <link>https://news.example/articles/102</link>
      <pubDate>Fri, 13 Jun 2025 10:00:00 GMT</pubDate>
      <description>週末に試飲会</description>
    </item>
    <item>
      <title>No id and no link</title>
      <description>this entry cannot be identified</description>
    </item>
  </channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <title>Coffee Blog</title>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2025-06-13T03:00:00Z</updated>
  <entry>
    <title type="html">Review: &lt;em&gt;Noroshi Coffee&lt;/em&gt; cold brew</title>
    <link href="https://blog.example/2025/06/noroshi"/>
    <id>tag:blog.example,2025:noroshi</id>
    <updated>2025-06-13T03:00:00Z</updated>
    <author><name>Jane Roe</name></author>
    <summary type="html">&lt;p&gt;Smooth and &lt;a href="x"&gt;cheap&lt;/a&gt;.&lt;/p&gt;</summary>
  </entry>
  <entry>
    <title>Undated entry</title>
    <link href="https://blog.example/2025/06/undated"/>
    <id>tag:blog.example,2025:undated</id>
    <content type="html">&lt;div&gt;Body from content&lt;/div&gt;</content>
  </entry>
</feed>
"""


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None


@dataclass
class FeedServer:
    base: str
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    state = FeedServer(base="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append({k.lower(): v for k, v in self.headers.items()} | {"path": self.path})
            route = state.routes.get(self.path, Route(status=404, body=b"not found"))
            if route.etag and self.headers.get("If-None-Match") == route.etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(route.body)))
            if route.etag:
                self.send_header("ETag", route.etag)
                self.send_header("Last-Modified", "Fri, 13 Jun 2025 01:00:00 GMT")
            self.end_headers()
            self.wfile.write(route.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    # A short poll: shutdown() waits up to one interval (0.5 s by default, paid at every teardown).
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_rss2_japanese_feed(server: FeedServer) -> None:
    server.routes["/ja.xml"] = Route(body=RSS_JA.encode("utf-8"))
    source = build_source("rss", {"url": server.base + "/ja.xml", "timeout_seconds": 5})
    result = source.fetch(None, NOW)
    assert [p.external_id for p in result.posts] == ["news-101", "https://news.example/articles/102"]
    first, second = result.posts
    assert first.posted_at == datetime(2025, 6, 13, 0, 30, tzinfo=UTC)
    assert (
        first.text == "ノロシ珈琲、新作ほうじ茶ラテを発売\nノロシ珈琲は13日、新作を発売した。& 全国で 販売。"
    )
    assert first.author == "山田 花子" and first.url == "https://news.example/articles/101"
    assert first.lang == "ja" and first.author_followers is None
    assert second.posted_at == datetime(2025, 6, 13, 10, 0, tzinfo=UTC) and second.author is None
    assert result.skipped == [("entry 3", "no id/guid or link (title 'No id and no link')")]
    assert result.watermark is None and not result.exhausted
    assert server.requests[0]["user-agent"] == "Noroshi/0.1"


def test_atom_feed_and_fallback_time(server: FeedServer) -> None:
    server.routes["/atom"] = Route(body=ATOM.encode(), content_type="application/atom+xml")
    result = build_source("rss", {"url": server.base + "/atom"}).fetch(None, NOW)
    by_id = {p.external_id: p for p in result.posts}
    review = by_id["tag:blog.example,2025:noroshi"]
    assert review.text == "Review: Noroshi Coffee cold brew\nSmooth and cheap."
    assert review.author == "Jane Roe" and review.lang == "en"
    assert review.posted_at == datetime(2025, 6, 13, 3, 0, tzinfo=UTC)
    assert review.url == "https://blog.example/2025/06/noroshi"
    undated = by_id["tag:blog.example,2025:undated"]
    assert undated.posted_at == NOW and undated.text == "Undated entry\nBody from content"


def test_conditional_get_and_no_repeats(server: FeedServer) -> None:
    route = Route(body=RSS_JA.encode("utf-8"), etag='"v1"')
    server.routes["/feed"] = route
    with httpx.Client() as client:
        source = build_source("rss", {"url": server.base + "/feed"}, http=client)
        first = source.fetch(None, NOW)
        assert len(first.posts) == 2
        assert first.cursor is not None and first.cursor["etag"] == '"v1"'

        unchanged = source.fetch(first.cursor, NOW)
        assert unchanged.posts == [] and unchanged.cursor == first.cursor
        assert server.requests[-1]["if-none-match"] == '"v1"'
        assert server.requests[-1]["if-modified-since"] == "Fri, 13 Jun 2025 01:00:00 GMT"

        # The feed changes (new ETag) and gains an item: only the new one comes out.
        new_item = (
            "<item><title>ノロシ珈琲 炎上</title><link>https://news.example/articles/103</link>"
            "<guid>news-103</guid><pubDate>Fri, 13 Jun 2025 11:00:00 GMT</pubDate></item>"
        )
        route.body = RSS_JA.replace("<item>", new_item + "<item>", 1).encode("utf-8")
        route.etag = '"v2"'
        changed = source.fetch(first.cursor, NOW)
        assert [p.external_id for p in changed.posts] == ["news-103"]

        # A server without validators: the seen ids alone prevent repeats.
        route.etag = None
        again = source.fetch(changed.cursor, NOW)
        assert again.posts == [] and again.cursor is not None and again.cursor["etag"] is None


def test_http_error_garbage_and_unreachable(server: FeedServer) -> None:
    server.routes["/boom"] = Route(status=500, body=b"oops", content_type="text/plain")
    server.routes["/garbage"] = Route(body=b"\x00\x01 this is <not a feed", content_type="text/plain")
    server.routes["/html"] = Route(body=b"<html><body><p>Hello</p></body></html>", content_type="text/html")
    for path, message in [
        ("/boom", "HTTP 500"),
        ("/garbage", "not a readable feed"),
        ("/html", "not a readable"),
    ]:
        url = server.base + path
        with pytest.raises(SourceError) as info:
            build_source("rss", {"url": url}).fetch(None, NOW)
        assert url in str(info.value) and message in str(info.value)
    with pytest.raises(SourceError, match="HTTP 404"):
        build_source("rss", {"url": server.base + "/missing"}).fetch(None, NOW)

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(SourceError, match="request failed"):
        build_source("rss", {"url": f"http://127.0.0.1:{port}/feed", "timeout_seconds": 2}).fetch(None, NOW)


def test_empty_but_valid_feed_gives_no_posts(server: FeedServer) -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
    server.routes["/empty"] = Route(body=body)
    result = build_source("rss", {"url": server.base + "/empty"}).fetch(None, NOW)
    assert result.posts == [] and result.skipped == []


def test_seen_ids_are_bounded(server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import collectors.sources.rss as rss

    monkeypatch.setattr(rss, "SEEN_MAX", 1)
    server.routes["/ja.xml"] = Route(body=RSS_JA.encode("utf-8"))
    source = build_source("rss", {"url": server.base + "/ja.xml"})
    first = source.fetch(None, NOW)
    assert first.cursor is not None and len(first.cursor["seen"]) == 1
    assert first.cursor["floor"] == "2025-06-13T00:30:00+00:00"  # the evicted entry's time
    assert source.fetch(first.cursor, NOW).posts == []


def test_strip_html() -> None:
    assert (
        strip_html("<p>a&lt;b &amp; c</p><p>second<br/>line</p><style>p{}</style>") == "a<b & c\nsecond\nline"
    )
