"""Export the bank to an Anki deck (genanki) and to Markdown.

Anki notes get a guid derived from the question id, so re-importing an edited bank updates the
notes in place and keeps their review history. Anki fields are HTML: our Markdown is rendered with
raw HTML disabled, and LaTeX is handed to Anki's MathJax as ``\\( \\)`` / ``\\[ \\]``.
"""

from __future__ import annotations

import html
import re
import tempfile
from pathlib import Path

import genanki
from markdown_it import MarkdownIt

from prep.bank import Bank, Question
from prep.i18n import Text

# Random but fixed ids: Anki identifies a note type and a deck by them across imports.
ANKI_MODEL_ID = 1_718_203_391
ANKI_DECK_ID = 1_718_203_392
_MATH = re.compile(r"\$\$(.+?)\$\$|\$(?!\s)([^$\n]+?)(?<!\s)\$", re.S)
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")

ANSWER = Text("答案", "Answer")
EXPLANATION = Text("解析", "Explanation")
CODE = Text("代码", "Code")
DECK = Text("注意力机制面试题", "Attention interview questions")


def markdown_to_html(text: str) -> str:
    """Markdown (no raw HTML) to HTML, with ``$...$`` / ``$$...$$`` as MathJax delimiters."""
    maths: list[str] = []

    def stash(match: re.Match[str]) -> str:
        display, inline = match.group(1), match.group(2)
        maths.append(rf"\[{display}\]" if display is not None else rf"\({inline}\)")
        return f"MATHPLACEHOLDER{len(maths) - 1}X"

    rendered = _markdown.render(_MATH.sub(stash, text))
    return re.sub(
        r"MATHPLACEHOLDER(\d+)X",
        lambda m: html.escape(maths[int(m.group(1))], quote=False),
        rendered,
    )


def _anki_model(lang: str) -> genanki.Model:
    back = (
        "{{FrontSide}}<hr id=answer>"
        f"<h3>{ANSWER[lang]}</h3>{{{{Answer}}}}"
        f"<h3>{EXPLANATION[lang]}</h3>{{{{Explanation}}}}"
        f"{{{{#Code}}}}<h3>{CODE[lang]}</h3>{{{{Code}}}}{{{{/Code}}}}"
    )
    return genanki.Model(
        ANKI_MODEL_ID + (lang == "en"),
        f"Attention Prep ({lang})",
        fields=[
            {"name": n} for n in ("Id", "Question", "Answer", "Explanation", "Code", "Section")
        ],
        templates=[{"name": "Card 1", "qfmt": "{{Question}}", "afmt": back}],
        css=".card { font-family: sans-serif; text-align: left; } pre { white-space: pre-wrap; }",
        sort_field_index=0,
    )


def anki_note(question: Question, section_title: str, model: genanki.Model, lang: str):
    code = f"<pre><code>{html.escape(question.code)}</code></pre>" if question.code else ""
    return genanki.Note(
        model=model,
        fields=[
            html.escape(question.id),
            markdown_to_html(question.question[lang]),
            markdown_to_html(question.answer[lang]),
            markdown_to_html(question.explanation[lang]),
            code,
            html.escape(section_title),
        ],
        tags=[question.section_id, *question.tags, question.difficulty],
        guid=genanki.guid_for(question.id, lang),
    )


def write_anki(bank: Bank, path: str | Path, lang: str = "zh") -> int:
    """Write every question of the bank as an .apkg deck; returns the number of notes."""
    model = _anki_model(lang)
    deck = genanki.Deck(ANKI_DECK_ID + (lang == "en"), DECK[lang])
    for section in bank.sections:
        for question in section.questions:
            deck.add_note(anki_note(question, section.title[lang], model, lang))
    genanki.Package(deck).write_to_file(str(path))
    return len(deck.notes)


def anki_bytes(bank: Bank, lang: str = "zh") -> bytes:
    """The .apkg deck as bytes (for a download button); genanki only writes to a file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "deck.apkg"
        write_anki(bank, path, lang)
        return path.read_bytes()


def to_markdown(bank: Bank, lang: str = "zh") -> str:
    """The whole bank as one Markdown document, sections in order, answers included."""
    lines = [f"# {DECK[lang]}", ""]
    for section in bank.sections:
        lines += [f"## {section.title[lang]}", "", section.description[lang], ""]
        for q in section.questions:
            first, _, rest = q.question[lang].strip().partition("\n")
            lines += [f"### {first}", ""]
            lines += [f"`{q.id}` · {q.type} · {q.difficulty} · {', '.join(q.tags)}", ""]
            if rest.strip():
                lines += [rest.strip(), ""]
            lines += [f"**{ANSWER[lang]}**", "", q.answer[lang].strip(), ""]
            lines += [f"**{EXPLANATION[lang]}**", "", q.explanation[lang].strip(), ""]
            if q.code:
                lines += [f"**{CODE[lang]}**", "", "```python", q.code.rstrip(), "```", ""]
    return "\n".join(lines)
