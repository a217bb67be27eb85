"""A post's content is Markdown, rendered once when written and sanitised (content_html), with an
excerpt and a reading time from its plain text; and the presentation and SEO fields: limits,
URL rules, null clearing, where each shows, and `?featured=`."""

from __future__ import annotations

import asyncio
import random
import re
import time
from typing import Any

import pytest
from bench import seed
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from blog_api.kit.db import Access, transaction
from blog_api.kit.markdown import render, render_off_loop
from blog_api.models import Post
from tests.helpers.api import API, PRESENTED_POST_FIELDS, WHOLE_POST_ONLY_FIELDS, get_post
from tests.helpers.factories import PostFactory, UserFactory
from tests.helpers.lists import walk

POSTS = f"{API}/posts"


async def _create(client: AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    body = {"title": "A post", "content": "Some content.", "published": True, **body}
    response = await client.post(POSTS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _html(client: AsyncClient, headers: dict[str, str], content: str) -> str:
    html: str = (await _create(client, headers, content=content))["content_html"]
    return html


async def _count_posts(app: FastAPI) -> int:
    async with transaction(app.state.session_factory, Access.READ) as session:
        return int(await session.scalar(select(func.count(Post.id))) or 0)


@pytest.fixture
async def writer(make_user: UserFactory) -> dict[str, Any]:
    return await make_user("writer")


# --- Markdown: CommonMark plus GitHub's tables, strikethrough and autolinks


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("# Title\n\nSome *emphasis* and **strong**.", ["<h1>Title</h1>", "<em>emphasis</em>"]),
        ("- one\n- two", ["<ul>\n<li>one</li>\n<li>two</li>\n</ul>"]),
        ("> quoted", ["<blockquote>\n<p>quoted</p>\n</blockquote>"]),
        ("Inline `a < b` code", ["<code>a &lt; b</code>"]),
        ('```python\nprint("<b>")\n```', ['<pre><code class="language-python">print(']),
        (
            "| Name | Score |\n|:-----|------:|\n| Ann  | 10    |",
            [
                "<table>",
                '<th align="left">Name</th>',
                '<th align="right">Score</th>',
                '<td align="left">Ann</td>',
                '<td align="right">10</td>',
            ],
        ),
        ("This is ~~gone~~ now", ["This is <s>gone</s> now"]),
        (
            "See https://example.com/a?b=1 and www.example.org today",
            [
                '<a href="https://example.com/a?b=1" rel="nofollow noopener">'
                "https://example.com/a?b=1</a>",
                '<a href="http://www.example.org" rel="nofollow noopener">www.example.org</a>',
            ],
        ),
        (
            '[a link](https://example.com/x "Its title")',
            [
                '<a href="https://example.com/x" title="Its title" rel="nofollow noopener">'
                "a link</a>"
            ],
        ),
        ("![a cat](https://example.com/cat.png)", ['<img src="https://example.com/cat.png"']),
    ],
)
async def test_markdown_is_rendered_with_githubs_extensions(
    client: AsyncClient, writer: dict[str, Any], markdown: str, expected: list[str]
) -> None:
    html = await _html(client, writer["headers"], markdown)
    for fragment in expected:
        assert fragment in html, html


async def test_the_html_is_stored_when_written_and_the_markdown_kept(
    client: AsyncClient, writer: dict[str, Any]
) -> None:
    post = await _create(client, writer["headers"], content="Hello **world**")
    assert post["content"] == "Hello **world**"
    assert post["content_html"] == "<p>Hello <strong>world</strong></p>\n"
    again = await get_post(client, post["id"])
    assert again["content_html"] == post["content_html"]
    by_slug = (await client.get(f"{POSTS}/by-slug/{post['slug']}")).json()
    assert by_slug["content_html"] == post["content_html"]


# --- The sanitiser: an allow-list


@pytest.mark.parametrize(
    ("markdown", "refused", "kept"),
    [
        ("Hi <script>alert(1)</script> there", ["<script", "alert(1)"], ["Hi", "there"]),
        ("<script>\nalert(1)\n</script>\n\nAfter", ["<script", "alert"], ["<p>After</p>"]),
        ("<style>p { color: red }</style>\n\nText", ["<style", "color"], ["<p>Text</p>"]),
        ('<iframe src="https://evil.example"></iframe>\n\nText', ["<iframe", "evil"], ["Text"]),
        ('<p onclick="steal()">Click</p>', ["onclick", "steal"], ["<p>Click</p>"]),
        ('<img src="https://x.io/i.png" onerror="steal()">', ["onerror", "steal"], ["<img"]),
        ('<span style="position:fixed">x</span>', ["style", "position"], ["<span>x</span>"]),
        ("[click](javascript:alert(1))", ['href="javascript', "<a href"], ["click"]),
        ('<a href="javascript:alert(1)">raw</a>', ["javascript"], [">raw</a>"]),
        ('<a href="JaVaScRiPt:alert(1)">mixed</a>', ["alert", "href"], [">mixed</a>"]),
        ('<a href="data:text/html;base64,PHNjcmlwdD4=">d</a>', ["data:", "href"], [">d</a>"]),
        ("![x](data:image/png;base64,iVBORw0KGgo=)", ["data:"], []),
        ('<img src="data:image/png;base64,iVBORw0KGgo=">', ["data:"], []),
        ('<form action="https://x.io"><input name="q"></form>', ["<form", "<input"], []),
        ("<!-- a comment --> visible", ["<!--", "a comment"], ["visible"]),
        (
            '<a href="https://ok.example" rel="opener" target="_blank">t</a>',
            ['rel="opener"', "_blank"],
            ['<a href="https://ok.example" rel="nofollow noopener">t</a>'],
        ),
    ],
)
async def test_the_html_is_sanitised(
    client: AsyncClient,
    writer: dict[str, Any],
    markdown: str,
    refused: list[str],
    kept: list[str],
) -> None:
    html = await _html(client, writer["headers"], markdown)
    for fragment in refused:
        assert fragment.lower() not in html.lower(), html
    for fragment in kept:
        assert fragment in html, html


async def test_every_link_gets_nofollow_noopener(
    client: AsyncClient, writer: dict[str, Any]
) -> None:
    markdown = (
        "[a](https://a.example) <https://b.example> https://c.example "
        '<a href="https://d.example">d</a> [rel](/relative) [m](mailto:ann@example.com)'
    )
    html = await _html(client, writer["headers"], markdown)
    anchors = re.findall(r"<a [^>]*>", html)
    assert len(anchors) == 6, html
    assert all('rel="nofollow noopener"' in anchor for anchor in anchors), anchors


async def test_only_language_classes_on_code_survive(
    client: AsyncClient, writer: dict[str, Any]
) -> None:
    html = await _html(
        client,
        writer["headers"],
        '```js" onclick="x\ncode\n```\n\n<p class="evil">p</p>\n\n'
        '<code class="language-go">g</code>',
    )
    assert "onclick" not in html
    assert 'class="evil"' not in html
    assert '<code class="language-go">' in html


# --- Excerpt and reading time: from the rendered text's plain text


async def test_the_excerpt_is_the_plain_text_without_markdown_syntax(
    client: AsyncClient, writer: dict[str, Any]
) -> None:
    markdown = (
        "# A heading\n\nSome **bold** and _italic_ text with [a link](https://x.io) and "
        "`code`.\n\n- item one\n- item two\n\n<script>hidden()</script>\n\n| a | b |\n|---|---|\n"
        "| c | d |"
    )
    post = await _create(client, writer["headers"], content=markdown)
    expected = "A heading Some bold and italic text with a link and code. item one item two a b c d"
    assert post["excerpt"] == expected
    item = (await client.get(POSTS)).json()["items"][0]
    assert item["excerpt"] == expected


async def test_a_long_excerpt_is_cut_at_a_word_of_the_plain_text(
    client: AsyncClient, writer: dict[str, Any]
) -> None:
    markdown = "**word** " * 100
    post = await _create(client, writer["headers"], content=markdown)
    assert post["excerpt"] == ("word " * 40).rstrip() + "\u2026"
    assert len(post["excerpt"]) <= 200


def _words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


def _images(n: int) -> str:
    return " ".join(f"![i{i}](https://example.com/{i}.png)" for i in range(n))


@pytest.mark.parametrize(
    ("content", "minutes"),
    [
        ("one", 1),  # at least 1
        (_words(275), 1),
        (_words(276), 2),
        (_words(550), 2),
        (_words(551), 3),
        (_images(5), 1),  # 5 images are a minute
        (_images(6), 2),
        (_words(275) + "\n\n" + _images(1), 2),  # ceil(1 + 0.2)
        # 220 words and one image are exactly one minute (no floating-point rounding up).
        (_words(220) + "\n\n" + _images(1), 1),
        (_words(110) + "\n\n" + _images(3), 1),
        (_words(111) + "\n\n" + _images(3), 2),
        # Markdown syntax is no word; HTML images count as images.
        ("**a** _b_ [c](https://x.io) " * 100 + "\n\n" + '<img src="https://x.io/a.png">', 2),
        ("<script>" + _words(1000) + "</script>", 1),  # what is removed is not read
    ],
)
async def test_reading_time_is_ceil_words_over_275_plus_a_fifth_per_image(
    client: AsyncClient, writer: dict[str, Any], content: str, minutes: int
) -> None:
    post = await _create(client, writer["headers"], content=content)
    assert post["reading_time"] == minutes
    item = (await client.get(POSTS)).json()["items"][0]
    assert item["reading_time"] == minutes


async def test_patching_the_content_renders_it_again(
    client: AsyncClient, writer: dict[str, Any]
) -> None:
    post = await _create(client, writer["headers"], content="First *version*")
    url = f"{POSTS}/{post['id']}"
    response = await client.patch(url, json={"content": _words(300)}, headers=writer["headers"])
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["content_html"] == f"<p>{_words(300)}</p>\n"
    assert patched["reading_time"] == 2
    assert patched["excerpt"].startswith("w0 w1 w2")
    response = await client.patch(url, json={"title": "Renamed"}, headers=writer["headers"])
    assert response.json()["content_html"] == patched["content_html"]
    assert (await get_post(client, post["id"]))["reading_time"] == 2


async def test_realworld_articles_are_rendered_by_the_same_service(
    client: AsyncClient, writer: dict[str, Any]
) -> None:
    token = {"Authorization": writer["headers"]["Authorization"].replace("Bearer", "Token")}
    article = {"title": "RW", "description": "d", "body": "Hello ~~old~~ **new**"}
    response = await client.post("/api/articles", json={"article": article}, headers=token)
    assert response.status_code == 201, response.text
    created = response.json()["article"]
    assert "content_html" not in created
    assert "reading_time" not in created
    native = (await client.get(f"{POSTS}/by-slug/{created['slug']}")).json()
    assert native["content_html"] == "<p>Hello <s>old</s> <strong>new</strong></p>\n"
    assert native["excerpt"] == "Hello old new"
    response = await client.put(
        f"/api/articles/{created['slug']}",
        json={"article": {"body": "See <script>x()</script>[l](https://x.io)"}},
        headers=token,
    )
    assert response.status_code == 200, response.text
    native = (await client.get(f"{POSTS}/by-slug/{created['slug']}")).json()
    assert native["content_html"] == (
        '<p>See <a href="https://x.io" rel="nofollow noopener">l</a></p>\n'
    )


# --- Presentation and SEO fields

URL = "https://example.com/images/a.png"
VALUES: dict[str, Any] = {
    "feature_image": URL,
    "feature_image_alt": "A lake at dawn",
    "feature_image_caption": "Photo: Ann",
    "meta_title": "The lake",
    "meta_description": "All about the lake",
    "canonical_url": "https://blog.example.com/the-lake",
    "og_title": "Lake!",
    "og_description": "Look at it",
    "og_image": "HTTPS://cdn.example.com:8443/og.png?w=1200#x",
    "featured": True,
}
LIMITS = {
    "feature_image": 2000,
    "feature_image_alt": 191,
    "feature_image_caption": 500,
    "meta_title": 300,
    "meta_description": 500,
    "canonical_url": 2000,
    "og_title": 300,
    "og_description": 500,
    "og_image": 2000,
}
URL_FIELDS = ("feature_image", "canonical_url", "og_image")


def _at_most(field: str, length: int) -> str:
    if field in URL_FIELDS:
        prefix = "https://example.com/"
        return prefix + "a" * (length - len(prefix))
    return "x" * length


async def test_the_fields_are_set_on_create_and_shown_where_they_belong(
    client: AsyncClient, writer: dict[str, Any]
) -> None:
    post = await _create(client, writer["headers"], **VALUES)
    assert {name: post[name] for name in VALUES} == VALUES
    for read in (
        await get_post(client, post["id"]),
        (await client.get(f"{POSTS}/by-slug/{post['slug']}")).json(),
    ):
        assert {name: read[name] for name in VALUES} == VALUES
    item = (await client.get(POSTS)).json()["items"][0]
    assert set(item) >= PRESENTED_POST_FIELDS
    assert not WHOLE_POST_ONLY_FIELDS & set(item)
    shown = PRESENTED_POST_FIELDS - {"excerpt", "reading_time"}
    assert {name: item[name] for name in shown} == {name: VALUES[name] for name in shown}


async def test_the_fields_are_null_or_false_when_not_set(
    client: AsyncClient, writer: dict[str, Any]
) -> None:
    post = await _create(client, writer["headers"])
    assert post["featured"] is False
    assert all(post[name] is None for name in LIMITS)


@pytest.mark.parametrize("field", list(LIMITS))
async def test_each_field_takes_its_limit_and_refuses_one_more(
    app: FastAPI, client: AsyncClient, writer: dict[str, Any], field: str
) -> None:
    limit = LIMITS[field]
    post = await _create(client, writer["headers"], **{field: _at_most(field, limit)})
    assert post[field] == _at_most(field, limit)
    before = await _count_posts(app)
    body = {"title": "t", "content": "c", field: _at_most(field, limit + 1)}
    response = await client.post(POSTS, json=body, headers=writer["headers"])
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["loc"] for e in response.json()["errors"]] == [["body", field]]
    assert await _count_posts(app) == before
    url = f"{POSTS}/{post['id']}"
    response = await client.patch(
        url, json={field: _at_most(field, limit + 1), "title": "Changed"}, headers=writer["headers"]
    )
    assert response.status_code == 422
    unchanged = await get_post(client, post["id"])
    assert unchanged[field] == _at_most(field, limit)
    assert unchanged["title"] == "A post"


@pytest.mark.parametrize("field", URL_FIELDS)
@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        "ftp://example.com/a.png",
        "//example.com/a.png",
        "/images/a.png",
        "https://",
        "https:///path",
        "https://exa mple.com/a.png",
        "https://example.com/a b.png",
        "https://example.com/\u0000",
        "example.com/a.png",
        "",
    ],
)
async def test_urls_must_be_http_or_https_with_a_host(
    app: FastAPI, client: AsyncClient, writer: dict[str, Any], field: str, url: str
) -> None:
    body = {"title": "t", "content": "c", field: url}
    response = await client.post(POSTS, json=body, headers=writer["headers"])
    assert response.status_code == 422, (url, response.text)
    assert [e["loc"] for e in response.json()["errors"]] == [["body", field]]
    assert await _count_posts(app) == 0


@pytest.mark.parametrize("field", URL_FIELDS)
@pytest.mark.parametrize(
    "url",
    [
        "http://example.com",
        "https://example.com/a.png?size=large#top",
        "HTTPS://user@cdn.example.com:8080/x",
        "https://例え.jp/画像.png",
    ],
)
async def test_http_urls_with_a_host_are_stored_as_sent(
    client: AsyncClient, writer: dict[str, Any], field: str, url: str
) -> None:
    post = await _create(client, writer["headers"], **{field: url})
    assert post[field] == url


async def test_patch_sets_and_null_clears_each_field(
    client: AsyncClient, writer: dict[str, Any]
) -> None:
    post = await _create(client, writer["headers"])
    url = f"{POSTS}/{post['id']}"
    response = await client.patch(url, json=VALUES, headers=writer["headers"])
    assert response.status_code == 200, response.text
    assert {name: response.json()[name] for name in VALUES} == VALUES
    cleared = dict.fromkeys(LIMITS)
    response = await client.patch(url, json=cleared, headers=writer["headers"])
    assert response.status_code == 200, response.text
    after = await get_post(client, post["id"])
    assert all(after[name] is None for name in LIMITS)
    assert after["featured"] is True  # not sent: unchanged
    response = await client.patch(url, json={"featured": False}, headers=writer["headers"])
    assert response.json()["featured"] is False


@pytest.mark.parametrize("value", [None, "yes", 1, "true"])
async def test_featured_is_a_boolean_never_null(
    client: AsyncClient, writer: dict[str, Any], value: Any
) -> None:
    post = await _create(client, writer["headers"], featured=True)
    response = await client.patch(
        f"{POSTS}/{post['id']}", json={"featured": value}, headers=writer["headers"]
    )
    assert response.status_code == 422, response.text
    assert (await get_post(client, post["id"]))["featured"] is True
    response = await client.post(
        POSTS, json={"title": "t", "content": "c", "featured": value}, headers=writer["headers"]
    )
    assert response.status_code == 422


async def test_the_schema_states_the_limits_and_the_url_rule(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]
    for shape in ("PostCreate", "PostUpdate"):
        properties = schema[shape]["properties"]
        for field, limit in LIMITS.items():
            options = properties[field]["anyOf"]
            string = next(option for option in options if option.get("type") == "string")
            assert string["maxLength"] == limit, (shape, field)
            if field in URL_FIELDS:
                assert string["pattern"].startswith("^[hH][tT][tT][pP][sS]?://")
            assert {"type": "null"} in options
    assert "content_html" in schema["Post"]["properties"]
    assert "content_html" not in schema["PostSummary"]["properties"]
    assert "meta_title" not in schema["PostSummary"]["properties"]
    assert "reading_time" in schema["PostSummary"]["required"]


# --- ?featured=


async def test_featured_lists_by_page_and_by_cursor(
    client: AsyncClient, writer: dict[str, Any]
) -> None:
    featured: list[int] = []
    plain: list[int] = []
    for i in range(7):
        post = await _create(client, writer["headers"], title=f"Post {i}", featured=i % 2 == 0)
        (featured if i % 2 == 0 else plain).append(post["id"])
    draft = await _create(client, writer["headers"], featured=True, published=False)
    everything = (await client.get(POSTS)).json()
    assert everything["total"] == 7
    page = (await client.get(POSTS, params={"featured": "true", "per_page": 3})).json()
    assert page["total"] == 4
    assert page["pages"] == 2
    assert [p["id"] for p in page["items"]] == featured[::-1][:3]
    assert all(p["featured"] for p in page["items"])
    second = (await client.get(POSTS, params={"featured": "true", "per_page": 3, "page": 2})).json()
    assert [p["id"] for p in second["items"]] == featured[::-1][3:]
    assert draft["id"] not in [p["id"] for p in page["items"] + second["items"]]
    walked = await walk(client, POSTS, per_page=3, params={"featured": "true"})
    assert [p["id"] for p in walked] == featured[::-1]
    not_featured = await walk(client, POSTS, per_page=2, params={"featured": "false"})
    assert [p["id"] for p in not_featured] == plain[::-1]
    for sort in ("title", "-created_at"):
        walked = await walk(client, POSTS, per_page=2, params={"featured": "true", "sort": sort})
        assert sorted(p["id"] for p in walked) == sorted(featured)
    # A featured list's cursor is refused by the other lists, and theirs by it.
    cursor = page["next_cursor"]
    assert cursor is not None
    for params in ({}, {"featured": "false"}):
        response = await client.get(POSTS, params={**params, "cursor": cursor, "per_page": 3})
        assert response.status_code == 422, params
    response = await client.get(
        POSTS, params={"featured": "true", "cursor": everything["next_cursor"] or "x"}
    )
    assert response.status_code == 422


async def test_featured_combines_with_the_other_filters(
    client: AsyncClient, make_user: UserFactory, writer: dict[str, Any]
) -> None:
    other = await make_user("other")
    mine = await _create(client, writer["headers"], featured=True, tags=["lake"])
    await _create(client, writer["headers"], featured=False, tags=["lake"])
    await _create(client, other["headers"], featured=True, tags=["lake"])
    page = (
        await client.get(POSTS, params={"featured": "true", "author": "writer", "tag": "lake"})
    ).json()
    assert [p["id"] for p in page["items"]] == [mine["id"]]
    assert page["total"] == 1


@pytest.mark.parametrize("value", ["maybe", "2", ""])
async def test_a_featured_filter_that_is_no_boolean_is_a_422(
    client: AsyncClient, value: str
) -> None:
    response = await client.get(POSTS, params={"featured": value})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_featured_lists_cost_a_fixed_number_of_statements(
    client: AsyncClient, writer: dict[str, Any], make_post: PostFactory, statements: list[str]
) -> None:
    for i in range(25):
        await make_post(writer["headers"], title=f"F{i}", featured=True)
    first = (await client.get(POSTS, params={"featured": "true", "per_page": 1})).json()
    counts = {}
    for per_page in (1, 20):
        for mode, extra in (("page", {}), ("cursor", {"cursor": first["next_cursor"]})):
            statements.clear()
            params = {"featured": "true", "per_page": per_page, **extra}
            response = await client.get(POSTS, params=params)
            assert len(response.json()["items"]) == per_page
            counts[mode, per_page] = len(statements)
    assert counts["cursor", 1] == counts["cursor", 20] == 1, counts
    assert counts["page", 1] == counts["page", 20] <= 2, counts


async def test_rendering_runs_off_the_event_loop() -> None:
    """A long post renders in a worker thread: the event loop keeps turning meanwhile."""
    content = ("Some **bold** words and a [link](https://example.com). " * 40 + "\n\n") * 45
    assert 90_000 < len(content) <= 100_000
    ticks = 0
    rendering = True

    async def tick() -> None:
        nonlocal ticks
        while rendering:
            ticks += 1
            await asyncio.sleep(0.002)

    ticker = asyncio.create_task(tick())
    started = time.perf_counter()
    rendered = await render_off_loop(content)
    elapsed = time.perf_counter() - started
    rendering = False
    await ticker
    assert rendered.reading_time == 40  # 10,800 words
    # On the loop, the ticker could not have run while it rendered (tens of milliseconds).
    assert elapsed > 0.02
    assert ticks >= 5, (ticks, elapsed)


def test_the_bench_seed_stores_what_the_renderer_makes() -> None:
    """bench/seed.py writes the rendered fields of its plain paragraphs without rendering
    100k posts: what it writes is what the renderer makes of them."""
    rng = random.Random(18)
    for _ in range(200):
        content = seed._content(rng)
        rendered = render(content)
        assert seed._rendered(content) == (rendered.html, rendered.excerpt, rendered.reading_time)
