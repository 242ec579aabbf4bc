"""Reads a PDF as a person would: its text (pypdf) and the QR code printed on its first page,
rendered at 150 dpi (pdfium) and decoded (zxing-cpp). Prints JSON: {"text": ..., "qr": ...}.

Used by the wallet's API tests: the printable PDF must say its words with their diacritics and
carry a QR that verifies. Usage: read_pdf.py FILE.pdf
"""

import json
import sys

import pypdf
import pypdfium2
import zxingcpp

path = sys.argv[1]
text = "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(path).pages)
image = pypdfium2.PdfDocument(path)[0].render(scale=150 / 72).to_pil()
found = zxingcpp.read_barcodes(image)
print(json.dumps({"text": text, "qr": found[0].text if found else None}, ensure_ascii=False))
