"""In-text citations on the pages: every marker of KB prose ([R40]) is shown as a superscript
link "[n]" to the page's own reference n, numbered by first mention; a condition page lists
exactly the sources its text cites, each linked; the JSON twin carries the same numbering; a
source whose title was not recorded is named by what is known of it."""

from __future__ import annotations

import dataclasses
import html as htmlib
import re
from importlib.resources import files

import pytest
from fastapi.testclient import TestClient
from markupsafe import Markup

from backmice.render.condition_page import condition_markdown
from backmice.web.app import create_app
from backmice.web.filters import cite

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
RAW_MARKER = re.compile(r"\[R\d+\]")
SUP = re.compile(r'<sup class="cite"><a href="#ref-(\d+)"[^>]*>\[(\d+)\]</a></sup>')
ITEM = re.compile(r'<li id="ref-(\d+)" value="(\d+)">(.*?)</li>', re.S)


def cited_in_yaml(condition_id: str) -> set[str]:
    """The ids a condition's YAML cites in its prose, read straight from the file (the
    ``references:`` list itself left out)."""
    text = (files("backmice.kb") / "data" / "conditions" / f"{condition_id}.yaml").read_text()
    prose = "\n".join(line for line in text.splitlines()
                      if not line.startswith("references:"))
    return set(re.findall(r"\[(R\d+)\]", prose))


def _label(kb, cid: str) -> str:
    """What the reference list shows as the source's name: its title, else its journal."""
    c = kb.citations[cid]
    shown = c.title if c.title_recorded else (c.journal or c.description)
    return shown.rstrip(".")


@SQLITE
def test_condition_pages_number_their_citations_in_order_of_first_mention(client, kb):
    for cid in kb.conditions:
        page = client.get(f"/conditions/{cid}").text
        body = page[:page.index('id="s-ref"')]
        assert not RAW_MARKER.search(page), cid  # no KB id is shown as a citation
        sups = SUP.findall(body)
        assert all(a == b for a, b in sups), cid  # the link goes where its label says
        order = list(dict.fromkeys(int(n) for n, _ in sups))
        assert order == list(range(1, len(order) + 1)), cid  # 1, 2, 3 ... by first mention
        items = ITEM.findall(page)
        assert [int(i) for i, _, _ in items] == order, cid  # one list entry per number
        assert all(i == v for i, v, _ in items)
        assert len(order) == len(cited_in_yaml(cid)), cid  # exactly the sources cited


@SQLITE
def test_each_number_leads_to_the_source_the_text_cites(client, kb):
    page = client.get("/conditions/episacral_lipoma").text
    twin = client.get("/api/v1/kb/conditions/episacral_lipoma").json()
    numbers = twin["citation_numbers"]
    items = {int(i): htmlib.unescape(text) for i, _, text in ITEM.findall(page)}
    assert set(numbers) == cited_in_yaml("episacral_lipoma")
    for source, n in numbers.items():
        assert _label(kb, source) in items[n], (source, n)
        link = kb.citations[source].link
        if link:
            assert f'href="{link}"' in items[n], source
    # the reviewer's examples: the ICPS trial, the two markers that looked like items 29-30
    # and one beyond the old list are now the numbers of the right sources
    for source in ("R40", "R29", "R30", "R72", "R149"):
        assert _label(kb, source) in items[numbers[source]]
    assert [r["number"] for r in twin["references"]] == list(range(1, len(numbers) + 1))
    assert [r["id"] for r in twin["references"]] == list(numbers)
    assert twin["further_reading"] == []


@SQLITE
def test_a_source_listed_but_never_cited_is_further_reading(web_app, store, kb):
    lipoma = kb.conditions["lipoma"]
    extra = next(c for c in kb.citations if c not in cited_in_yaml("lipoma"))
    changed = dataclasses.replace(kb, conditions={
        **kb.conditions,
        "lipoma": lipoma.model_copy(update={"references": [*lipoma.references, extra]})})
    with TestClient(create_app(web_app.state.settings, kb=changed, store=store)) as other:
        twin = other.get("/api/v1/kb/conditions/lipoma").json()
        page = other.get("/conditions/lipoma").text
    assert [r["id"] for r in twin["further_reading"]] == [extra]
    assert extra not in twin["citation_numbers"]
    further = page[page.index('id="further-reading"'):]
    assert f'id="further-{extra}"' in further and 'id="ref-' not in further


@SQLITE
def test_sources_without_a_recorded_title_are_named_by_what_is_known(client, kb):
    untitled = [cid for cid, c in kb.citations.items() if not c.title_recorded]
    assert untitled  # the brief left some titles out: they must still read sensibly
    listed = {c["id"]: c for c in client.get("/api/v1/kb/citations").json()}
    page = client.get("/knowledge-base").text
    assert "title not captured" not in page
    for cid in untitled:
        c = kb.citations[cid]
        data = listed[cid]
        assert data["title"] is None and data["description"]
        assert "Title not recorded" in data["text"]
        item = page[page.index(f'<li id="{cid}">'):]
        item = htmlib.unescape(item[:item.index("</li>")])
        assert "Title not recorded" in item
        assert _label(kb, cid) in item
        if c.pmid:
            assert re.search(rf"PMID <a [^>]*>{c.pmid}</a>", item), item
    for cid in ("R14", "R15"):  # e.g. Copeman 1949 and Herz 1946: author and journal shown
        assert kb.citations[cid].authors in listed[cid]["text"]
        assert kb.citations[cid].journal in listed[cid]["text"]


@SQLITE
def test_condition_pages_never_show_the_placeholder(client, kb):
    for cid in kb.conditions:
        assert "title not captured" not in client.get(f"/conditions/{cid}").text


@SQLITE
def test_other_pages_show_markers_only_as_links_or_labels(client):
    """Outside condition pages a marker links to the source on the knowledge-base page, where
    each source is labelled by its id: no marker is left as bare text."""
    for path in ("/conditions", "/knowledge-base", "/"):
        page = client.get(path).text
        page = re.sub(r'<sup class="cite"><a href="/knowledge-base#(R\d+)"[^>]*>\[\1\]</a>'
                      r'</sup>', "", page)
        page = re.sub(r'<span class="ref-id">\[R\d+\]</span>', "", page)
        assert not RAW_MARKER.search(page), path


def test_cite_filter():
    numbered = cite("Common [R1][R7], see <b> [R2].", {"R1": 1, "R7": 2})
    assert isinstance(numbered, Markup)
    assert '<a href="#ref-1" aria-label="reference 1">[1]</a>' in numbered
    assert '<a href="#ref-2" aria-label="reference 2">[2]</a>' in numbered
    assert '<a href="/knowledge-base#R2" aria-label="source R2">[R2]</a>' in numbered
    assert "&lt;b&gt;" in numbered and "<b>" not in numbered  # the prose is escaped
    assert cite("no markers") == "no markers"


@SQLITE
def test_markdown_page_uses_the_same_numbers(client, kb):
    text = condition_markdown(kb, "episacral_lipoma")
    assert not RAW_MARKER.search(text)
    numbers = client.get("/api/v1/kb/conditions/episacral_lipoma").json()["citation_numbers"]
    refs = text[text.index("## References"):]
    line = next(x for x in refs.splitlines() if x.startswith(f"{numbers['R40']}. "))
    assert kb.citations["R40"].title in line
