"""The translation check catches what would break or deface a page."""

from __future__ import annotations

from babel.messages.catalog import Catalog

from app.catalogs import check_catalog


def catalogs(*entries, plural=False):
    template, catalog = Catalog(locale="ht"), Catalog(locale="ht")
    for source, translation, *flags in entries:
        template.add(source)
        catalog.add(source, translation, flags=flags)
    return template, catalog


def report_for(*entries):
    template, catalog = catalogs(*entries)
    return check_catalog("ht", "messages", template, catalog)


def test_complete_catalog_passes():
    report = report_for(("Save %(name)s", "Anrejistre %(name)s"))
    assert report.ok and report.translated == 1


def test_missing_and_fuzzy_entries_fail():
    assert report_for(("Save", "")).missing == 1
    assert report_for(("Save", "Anrejistre", "fuzzy")).fuzzy == 1


def test_a_planted_script_tag_fails():
    """docs/SECURITY.md T3: Jinja renders translations as markup."""
    report = report_for(("Save", "Anrejistre <script>alert(1)</script>"))
    assert not report.ok
    assert "HTML tags not in the source: script" in report.problems[0]


def test_placeholder_mismatch_fails():
    report = report_for(("Hello %(name)s", "Bonjou %(non)s"))
    assert "placeholders differ" in report.problems[0]


def test_a_copy_of_the_source_fails_unless_kept():
    assert "copy of the source" in report_for(("Privacy", "Privacy")).problems[0]
    template, catalog = catalogs(("Compromiso Migrante", "Compromiso Migrante"))
    catalog["Compromiso Migrante"].user_comments.append("keep: official name")
    assert check_catalog("ht", "messages", template, catalog).ok


def test_stale_translation_is_counted():
    template, catalog = catalogs(("New text", "Nouvo tèks"))
    catalog.add("Old text", "Ansyen tèks")
    assert check_catalog("ht", "messages", template, catalog).stale == 1


def test_every_plural_slot_must_be_filled():
    template, catalog = Catalog(locale="es"), Catalog(locale="es")
    template.add(("%(num)d question", "%(num)d questions"))
    catalog.add(
        ("%(num)d question", "%(num)d questions"), ("%(num)d pregunta", "%(num)d preguntas", "")
    )
    assert check_catalog("es", "messages", template, catalog).missing == 1


def test_lazy_form_strings_are_extracted(tmp_path):
    """Form labels and validator messages use lazy_gettext (as _l): they must reach
    the catalog, or Haitian Creole pages would show them in English."""
    from babel.messages.pofile import read_po

    from app.catalogs import extract

    extract("messages", tmp_path / "messages.pot")
    with (tmp_path / "messages.pot").open("rb") as handle:
        ids = {m.id for m in read_po(handle)}
    assert "Choose one of the options." in ids
    assert "Name of the trade association" in ids


def catalog_files(pattern="*"):
    from app.config import PROJECT_ROOT

    directory = PROJECT_ROOT / "translations"
    return [*directory.glob(f"{pattern}.pot"), *directory.glob(f"*/LC_MESSAGES/{pattern}.po")]


def read_catalog(path):
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        return read_po(handle, abort_invalid=False)


def test_catalog_locations_are_relative_to_the_repository():
    """A location names a file of this repository, never one machine's path."""
    from app.config import PROJECT_ROOT

    for path in catalog_files():
        for message in read_catalog(path):
            for filename, _line in message.locations:
                assert not filename.startswith("/") and ":" not in filename, (path, filename)
                assert (PROJECT_ROOT / filename).is_file(), (path, filename)


def test_questionnaire_locations_point_at_their_text():
    """A translator following `#: questionnaires/<id>/v1.yaml:123` finds the text there."""
    from app.config import PROJECT_ROOT

    paths = catalog_files("questionnaires")
    assert len(paths) >= 2
    sources = {}
    for path in paths:
        for message in read_catalog(path):
            if not message.id:
                continue
            assert message.locations, (path, message.context)
            for filename, line in message.locations:
                if filename not in sources:
                    sources[filename] = (PROJECT_ROOT / filename).read_text("utf-8").splitlines()
                lines = sources[filename]
                start = " ".join(message.id.split()[:3])
                assert 1 <= line <= len(lines) and start in lines[line - 1], (
                    f"{path.name}: {message.context} is not at {filename}:{line}"
                )
