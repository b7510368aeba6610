"""The address book of SPEC §5: contacts from vCard and CSV files, matched to callers in E.164.

``vcard`` and ``csv_import`` are pure parsers (no Flask); ``book`` stores their records and
answers "who is +49301110003?" for the lists, the mails and the webhooks.
"""

from __future__ import annotations

from .csv_import import parse_csv
from .records import ContactRecord, NumberRecord, ParsedFile, decode_text
from .vcard import looks_like_vcard, parse_vcards, to_vcard

__all__ = ["ContactRecord", "NumberRecord", "ParsedFile", "parse_file", "to_vcard"]


def parse_file(data: bytes | str, source: str, region: str) -> ParsedFile:
    """A .vcf or .csv file's contacts, told apart by content (uploads are often misnamed)."""
    text = decode_text(data)
    if looks_like_vcard(text):
        return parse_vcards(text, source, region)
    return parse_csv(text, source, region)
