#!/usr/bin/env python3
"""Signs a small PDF with pyHanko (PAdES basic), as an independent signing tool would.

Usage: sign_pdf.py KEY.p12 PASSWORD OUT.pdf [IN.pdf]

Without IN.pdf a one-page blank document is made with pyHanko's own writer. The signature is an
incremental update with /SubFilter /ETSI.CAdES.detached, which is what e-office documents carry.
"""
import io
import sys

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PdfFileWriter
from pyhanko.sign import fields, signers


def blank_pdf() -> io.BytesIO:
    w = PdfFileWriter()
    size = [generic.NumberObject(n) for n in (0, 0, 595, 842)]
    page = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Page"),
            pdf_name("/MediaBox"): generic.ArrayObject(size),
            pdf_name("/Resources"): generic.DictionaryObject(),
        }
    )
    w.insert_page(page)
    out = io.BytesIO()
    w.write(out)
    out.seek(0)
    return out


def main() -> None:
    p12, password, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
    if len(sys.argv) > 4:
        with open(sys.argv[4], "rb") as f:
            source = io.BytesIO(f.read())
    else:
        source = blank_pdf()
    signer = signers.SimpleSigner.load_pkcs12(p12, passphrase=password.encode())
    if signer is None:
        sys.exit("could not load the PKCS#12")
    meta = signers.PdfSignatureMetadata(field_name="ChuKySo", subfilter=fields.SigSeedSubFilter.PADES)
    signed = signers.sign_pdf(IncrementalPdfFileWriter(source), meta, signer=signer)
    with open(out_path, "wb") as f:
        f.write(signed.getvalue())


if __name__ == "__main__":
    main()
