"""HTML to PDF for the portal's documents (policies, minutes, letters, certificates).

WeasyPrint renders with Debian's Pango and the DejaVu fonts, which carry every Turkish
letter; scripts/bootstrap.sh installs them. Documents are rendered from templates with
no network access: images and styles must be inline or under our static files.
"""

import logging

# WeasyPrint logs each rendering step at INFO; only its warnings matter here.
logging.getLogger("weasyprint").setLevel(logging.WARNING)
# A plain, printable style every document starts from; a template may add its own.
BASE_CSS = """
@page { size: A4; margin: 2cm 1.8cm; @bottom-right { content: counter(page) " / " counter(pages); } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; line-height: 1.4; }
h1 { font-size: 15pt; } h2 { font-size: 12pt; margin-top: 1.2em; }
table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid #999; padding: 3pt 5pt; }
th { background: #eee; text-align: left; } code, .mono { font-family: "DejaVu Sans Mono", monospace; }
"""


def html_to_pdf(html: str) -> bytes:
    """The PDF of a complete HTML document (UTF-8), fonts embedded."""
    # Imported on first use: loading WeasyPrint parses its stylesheets, which no process
    # that never renders a document should pay for at start.
    from weasyprint import HTML

    return HTML(string=html, base_url=None).write_pdf()


def html_to_pdf_paged(html: str) -> tuple[bytes, int]:
    """The PDF of a complete HTML document and its number of pages (fees count pages)."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=None).render()
    return document.write_pdf(), len(document.pages)
