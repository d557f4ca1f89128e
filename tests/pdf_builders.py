"""PDFs for the document tests, built in code (no binaries committed): plain, hostile, encrypted, broken.

``plain_pdf`` writes real pages with text through fpdf2; ``hostile_pdf`` adds, with pypdf, every
kind of active or hidden content a document upload must lose: document JavaScript and an
/OpenAction script, a page /AA script, a link annotation running JavaScript and one launching a
program, an embedded file, an AcroForm with XFA, XMP metadata and the author in /Info.
"""
import io

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    TextStringObject,
)
from werkzeug.datastructures import FileStorage

#: What a hostile PDF carries; none of it may survive the rewrite.
ACTIVE_NAMES = (b"/JavaScript", b"/JS", b"/OpenAction", b"/EmbeddedFile", b"/AA", b"/Annots", b"/Launch",
                b"/AcroForm", b"/XFA", b"/Metadata", b"/URI")


def plain_pdf(pages=1, text="Piano del progetto"):
    """A small PDF with ``pages`` pages, each with a line of text."""
    pdf = FPDF(unit="pt", format="A4")
    pdf.set_font("helvetica", size=14)
    for n in range(pages):
        pdf.add_page()
        pdf.cell(text=f"{text} - pagina {n + 1}")
    return bytes(pdf.output())


def _name(value):
    return NameObject(value)


def _js_action(script):
    return DictionaryObject({_name("/S"): _name("/JavaScript"), _name("/JS"): TextStringObject(script)})


def hostile_pdf(pages=2):
    """A PDF with real pages and everything active or hidden that PDF allows (see the module docstring)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(plain_pdf(pages))))
    writer.add_open_action(JavaScript("app.alert('document script');"))  # the /Names /JavaScript tree
    writer._root_object[_name("/OpenAction")] = writer._add_object(_js_action("app.alert('open');"))
    writer.add_attachment("programma.exe", b"MZ\x90\x00 not really a program")
    writer.add_metadata({"/Author": "Mario Rossi", "/Title": "Titolo segreto"})
    xmp = DecodedStreamObject()
    xmp.set_data(b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>')
    xmp.update({_name("/Type"): _name("/Metadata"), _name("/Subtype"): _name("/XML")})
    writer._root_object[_name("/Metadata")] = writer._add_object(xmp)
    xfa = DecodedStreamObject()
    xfa.set_data(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'><script>evil()</script></xdp:xdp>")
    writer._root_object[_name("/AcroForm")] = writer._add_object(DictionaryObject({
        _name("/Fields"): ArrayObject(), _name("/XFA"): writer._add_object(xfa)}))
    page = writer.pages[0]
    page[_name("/AA")] = DictionaryObject({_name("/O"): _js_action("app.alert('page open');")})
    rect = ArrayObject([FloatObject(10), FloatObject(10), FloatObject(200), FloatObject(60)])
    js_link = DictionaryObject({_name("/Type"): _name("/Annot"), _name("/Subtype"): _name("/Link"),
                                _name("/Rect"): rect, _name("/A"): _js_action("app.launchURL('http://x.example');")})
    launch = DictionaryObject({_name("/Type"): _name("/Annot"), _name("/Subtype"): _name("/Link"), _name("/Rect"): rect,
                               _name("/A"): DictionaryObject({_name("/S"): _name("/Launch"),
                                                              _name("/F"): TextStringObject("cmd.exe")})})
    uri = DictionaryObject({_name("/Type"): _name("/Annot"), _name("/Subtype"): _name("/Link"), _name("/Rect"): rect,
                            _name("/A"): DictionaryObject({_name("/S"): _name("/URI"),
                                                           _name("/URI"): TextStringObject("http://x.example/")})})
    page[_name("/Annots")] = ArrayObject([writer._add_object(a) for a in (js_link, launch, uri)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_pdf():
    """A PDF protected by a password."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(plain_pdf())))
    writer.encrypt("segreto")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_upload(data, filename="piano.pdf", content_type="application/pdf"):
    """A FileStorage as Flask hands it to a view."""
    return FileStorage(stream=io.BytesIO(data), filename=filename, content_type=content_type)


def text_of_pdf(data):
    """The text of every page of a PDF, joined."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
