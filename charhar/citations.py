"""“Cite this”: APA (7th edition) and Chicago (notes and bibliography) references and a BibTeX
entry for research articles and publications.

Names: the institute writes Chinese names with the family name in capitals ("ZHAO
Minghao"); such a word is taken as the family name. Otherwise the last word is. Outside
authors (the free-text byline) are cited as written.
"""

import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from articles.models import Article
from publications.models import Publication, PublicationAuthor

from .models import SiteSettings


@dataclass
class Name:
    family: str
    given: str = ""
    literal: bool = False  # cited exactly as written (an outside byline)

    @classmethod
    def parse(cls, name: str) -> "Name":
        words = name.split()
        if len(words) < 2:
            return cls(name.strip())
        capitals = [w for w in words if len(w) > 1 and w.isupper()]
        family = capitals[0] if capitals else words[-1]
        given = [w for w in words if w is not family]
        return cls(family.title() if capitals else family, " ".join(given))

    @property
    def initials(self) -> str:
        parts = []
        for word in self.given.split():
            parts.append("-".join(f"{piece[0]}." for piece in word.split("-") if piece))
        return " ".join(parts)

    def apa(self) -> str:
        if self.literal or not self.given:
            return self.family
        return f"{self.family}, {self.initials}"

    def inverted(self) -> str:
        if self.literal or not self.given:
            return self.family
        return f"{self.family}, {self.given}"

    def natural(self) -> str:
        if self.literal or not self.given:
            return self.family
        return f"{self.given} {self.family}"

    def bibtex(self) -> str:
        if self.literal or not self.given:
            return "{" + bibtex_escape(self.family) + "}"
        return f"{bibtex_escape(self.family)}, {bibtex_escape(self.given)}"


def _names(experts, byline: str) -> list[Name]:
    names = [Name.parse(expert.name) for expert in experts]
    if byline.strip():
        names.append(Name(byline.strip(), literal=True))
    return names


def _apa_names(names: list[Name]) -> str:
    written = [name.apa() for name in names]
    if len(written) <= 1:
        return "".join(written)
    return ", ".join(written[:-1]) + ", & " + written[-1]


def _chicago_names(names: list[Name]) -> str:
    if not names:
        return ""
    written = [names[0].inverted()] + [name.natural() for name in names[1:]]
    if len(written) == 1:
        return written[0]
    return ", ".join(written[:-1]) + (", and " if len(written) > 2 else " and ") + written[-1]


def _end(text: str) -> str:
    """`text` closed with a full stop, unless it ends with punctuation already."""
    return text if text.endswith((".", "?", "!")) else text + "."


_BIBTEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def bibtex_escape(text: str) -> str:
    return "".join(_BIBTEX_SPECIALS.get(ch, ch) for ch in " ".join(text.split()))


def _bibtex_key(names: list[Name], year, slug: str) -> str:
    first = names[0].family if names else "charhar"
    word = next(iter(re.findall(r"[A-Za-z]+", slug)), "item")
    ascii_name = unicodedata.normalize("NFKD", first).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]", "", f"{ascii_name}{year}{word}") or f"charhar{year}"


def _bibtex(kind: str, key: str, fields: list[tuple[str, str]]) -> str:
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@{kind}{{{key},\n{body}\n}}\n"


def _filename(slug: str) -> str:
    ascii_slug = unicodedata.normalize("NFKD", slug).encode("ascii", "ignore").decode()
    return (re.sub(r"[^A-Za-z0-9-]", "", ascii_slug) or "citation") + ".bib"


@dataclass
class Citation:
    apa: str  # HTML
    chicago: str  # HTML
    bibtex: str
    filename: str


def institute() -> str:
    return SiteSettings.load().institute_name or "The Charhar Institute"


def article_citation(article: Article) -> Citation:
    names = _names(article.ordered_authors, article.byline)
    url = settings.SITE_URL + article.get_absolute_url()
    when = article.published_at or article.created_at  # a draft in a staff preview
    publisher = institute()
    author_apa = _apa_names(names) or publisher
    apa = format_html(
        "{} ({}, {}). <i>{}</i>. {}. {}",
        author_apa,
        when.year,
        date_format(when, "F j"),
        article.title,
        publisher,
        url,
    )
    chicago = format_html(
        "{}“{}.” {}, {}. {}.",
        _end(_chicago_names(names)) + " " if names else "",
        article.title.rstrip("."),
        publisher,
        date_format(when, "F j, Y"),
        url,
    )
    fields = [
        ("author", " and ".join(name.bibtex() for name in names)),
        ("title", "{" + bibtex_escape(article.title) + "}"),
        ("institution", bibtex_escape(publisher)),
        ("year", str(when.year)),
        ("month", date_format(when, "M").lower()),
        ("url", url),
    ]
    return Citation(
        mark_safe(apa),  # noqa: S308 - format_html escaped every value
        mark_safe(chicago),  # noqa: S308
        _bibtex("techreport", _bibtex_key(names, when.year, article.slug), fields),
        _filename(article.slug),
    )


def publication_citation(publication: Publication) -> Citation:
    credits = list(publication.contributions.all())
    editors_only = credits and all(c.role == PublicationAuthor.Role.EDITOR for c in credits)
    authors = [c.expert for c in credits if c.role == PublicationAuthor.Role.AUTHOR]
    editors = [c.expert for c in credits if c.role == PublicationAuthor.Role.EDITOR]
    names = _names(editors if editors_only else authors, publication.byline)
    year = publication.published_on.year
    publisher = publication.publisher or institute()
    url = settings.SITE_URL + publication.get_absolute_url()
    details = [
        f"Vol. {publication.volume}" if publication.volume else "",
        f"No. {publication.issue}" if publication.issue else "",
    ]
    detail = ", ".join(d for d in details if d)
    apa_who = _apa_names(names) + (" (Eds.)" if editors_only and len(names) > 1 else "")
    apa_who += " (Ed.)" if editors_only and len(names) == 1 else ""
    apa = format_html(
        "{}{}({}). <i>{}</i>{}. {}. {}",
        apa_who,
        " " if apa_who else "",
        year,
        publication.title,
        format_html(" ({})", detail) if detail else "",
        publisher,
        url,
    )
    who = _chicago_names(names)
    if who and editors_only:
        who += ", ed" + ("s" if len(names) > 1 else "")
    chicago = format_html(
        "{}<i>{}</i>.{} {}, {}.",
        _end(who) + " " if who else "",
        publication.title.rstrip("."),
        format_html(" {}.", detail) if detail else "",
        publisher,
        year,
    )
    series = publication.series.name if publication.series else ""
    role = "editor" if editors_only else "author"
    fields = [
        (role, " and ".join(name.bibtex() for name in names)),
        ("title", "{" + bibtex_escape(publication.title) + "}"),
        ("series", bibtex_escape(series)),
        ("volume", bibtex_escape(publication.volume)),
        ("number", bibtex_escape(publication.issue)),
        ("publisher", bibtex_escape(publisher)),
        ("year", str(year)),
        ("isbn", publication.isbn),
        ("url", url),
    ]
    return Citation(
        mark_safe(apa),  # noqa: S308 - format_html escaped every value
        mark_safe(chicago),  # noqa: S308
        _bibtex("book", _bibtex_key(names, year, publication.slug), fields),
        _filename(publication.slug),
    )


def citation_for(obj) -> Citation:
    if isinstance(obj, Publication):
        return publication_citation(obj)
    return article_citation(obj)


def is_citable(obj) -> bool:
    return isinstance(obj, Publication) or (
        isinstance(obj, Article) and obj.kind == Article.Kind.RESEARCH
    )


def bibtex(request, kind: str, slug: str):
    """The BibTeX entry of a research article or a publication, as a file to save."""
    if kind == "article":
        obj = get_object_or_404(Article.objects.published().research().with_related(), slug=slug)
    elif kind == "publication":
        obj = get_object_or_404(Publication.objects.published().with_related(), slug=slug)
    else:
        raise Http404("There is nothing to cite here.")
    cite = citation_for(obj)
    response = HttpResponse(cite.bibtex, content_type="application/x-bibtex; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{cite.filename}"'
    return response
