//! Rendering domain values as aligned tables, JSON or CSV.
//!
//! CSV columns are fixed and documented in docs/cli.md; amounts are exact decimals as the
//! bank sent them (scale kept), dates ISO 8601.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use psd2::{Account, Balance, CardAccount, Decimal, Transaction};
use serde::Serialize;

use crate::error::CliError;

/// The CSV header of transaction listings.
pub const TRANSACTION_COLUMNS: [&str; 8] = [
    "booking_date",
    "value_date",
    "status",
    "amount",
    "currency",
    "counterparty",
    "remittance",
    "transaction_id",
];

/// The CSV header of account listings (one row per account and balance).
pub const ACCOUNT_COLUMNS: [&str; 9] = [
    "account_id",
    "iban",
    "currency",
    "name",
    "product",
    "status",
    "balance_type",
    "balance_amount",
    "balance_currency",
];

/// The CSV header of balance listings.
pub const BALANCE_COLUMNS: [&str; 6] = [
    "account_id",
    "balance_type",
    "amount",
    "currency",
    "reference_date",
    "credit_limit_included",
];

/// The CSV header of card account listings.
pub const CARD_COLUMNS: [&str; 8] = [
    "account_id",
    "masked_pans",
    "currency",
    "name",
    "product",
    "status",
    "credit_limit",
    "balance",
];

/// A simple text table: a header and rows, columns padded to their widest cell; columns
/// named in `right` are right-aligned (amounts).
#[derive(Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    right: Vec<bool>,
}

impl Table {
    /// A table with these column names; `right_aligned` lists column indexes.
    pub fn new(header: &[&str], right_aligned: &[usize]) -> Self {
        Self {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            right: (0..header.len())
                .map(|i| right_aligned.contains(&i))
                .collect(),
        }
    }

    /// Adds a row (missing cells are empty, extra ones ignored).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The rows, without the header.
    pub fn into_rows(self) -> Vec<Vec<String>> {
        self.rows
    }

    /// The table as text, every line ending in a newline.
    pub fn render(&self) -> String {
        let n = self.header.len();
        // Cells hold what the bank sent: made printable before they are measured.
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| row.iter().map(|c| printable(c, usize::MAX)).collect())
            .collect();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &rows {
            for (i, cell) in row.iter().take(n).enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut out = String::new();
            for (i, (width, right)) in widths.iter().zip(&self.right).enumerate() {
                let cell = cells.get(i).map(String::as_str).unwrap_or("");
                let pad = width.saturating_sub(cell.chars().count());
                if i > 0 {
                    out.push_str("  ");
                }
                if *right {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(cell);
                } else {
                    out.push_str(cell);
                    if i + 1 < n {
                        out.push_str(&" ".repeat(pad));
                    }
                }
            }
            out.trim_end().to_string() + "\n"
        };
        let mut out = line(&self.header);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&line(&rule));
        for row in &rows {
            out.push_str(&line(row));
        }
        out
    }
}

/// `text` safe to write to a terminal: control characters (escape sequences a bank could
/// send to move the cursor, recolour or retitle the terminal; line breaks that would
/// forge lines) become `\u{FFFD}`, and at most `max` characters are kept (`…` marks a cut).
pub fn printable(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// One CSV field, quoted when it holds a comma, quote, or line break (RFC 4180).
pub fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// One CSV line (with its `\n`).
pub fn csv_line<S: AsRef<str>>(fields: &[S]) -> String {
    let mut line = fields
        .iter()
        .map(|f| csv_field(f.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

/// Pretty JSON of any domain value (secrets are redacted by their own `Serialize`).
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<String, CliError> {
    serde_json::to_string_pretty(value)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| CliError::Local(format!("cannot encode JSON: {e}")))
}

fn date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// The other side of a transaction: the creditor for money out, the debtor for money in
/// (its name, else its IBAN/BBAN), falling back to a card merchant.
pub fn counterparty(t: &Transaction) -> String {
    let party = if t.amount.is_negative() {
        t.creditor.as_ref().or(t.debtor.as_ref())
    } else {
        t.debtor.as_ref().or(t.creditor.as_ref())
    };
    if let Some(p) = party {
        if let Some(name) = &p.name {
            return name.clone();
        }
        if let Some(acc) = &p.account {
            if let Some(iban) = &acc.iban {
                return iban.to_string();
            }
            if let Some(bban) = &acc.bban {
                return bban.clone();
            }
        }
    }
    t.card
        .as_ref()
        .and_then(|c| c.merchant.clone())
        .unwrap_or_default()
}

/// The remittance text: unstructured, else the enriched lines joined with ` / `, else the
/// structured reference.
pub fn remittance(t: &Transaction) -> String {
    if let Some(text) = &t.remittance_unstructured {
        return text.clone();
    }
    if !t.remittance_unstructured_array.is_empty() {
        return t.remittance_unstructured_array.join(" / ");
    }
    if let Some(text) = &t.remittance_structured {
        return text.clone();
    }
    t.additional_information.clone().unwrap_or_default()
}

/// The fixed transaction columns of one transaction.
pub fn transaction_cells(t: &Transaction) -> Vec<String> {
    vec![
        date(t.booking_date),
        date(t.value_date),
        t.status.to_string(),
        t.amount.amount.to_string(),
        t.amount.currency.to_string(),
        counterparty(t),
        remittance(t),
        opt(&t.transaction_id),
    ]
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// Transactions as a table (long texts shortened), CSV, or JSON.
pub fn transactions(list: &[Transaction], format: crate::cli::Format) -> Result<String, CliError> {
    use crate::cli::Format;
    Ok(match format {
        Format::Json => json(list)?,
        Format::Csv => {
            let mut out = csv_line(&TRANSACTION_COLUMNS);
            for t in list {
                out.push_str(&csv_line(&transaction_cells(t)));
            }
            out
        }
        Format::Table => {
            let mut table = Table::new(&TRANSACTION_COLUMNS, &[3]);
            for t in list {
                let mut cells = transaction_cells(t);
                cells[5] = shorten(&cells[5], 28);
                cells[6] = shorten(&cells[6], 36);
                table.row(cells);
            }
            let mut out = table.render();
            out.push_str(&summary_text(&summarize(list)));
            out
        }
    })
}

/// Money in and out per currency, exact.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CurrencyTotals {
    /// Sum of positive amounts.
    pub incoming: Decimal,
    /// Sum of negative amounts (negative or zero).
    pub outgoing: Decimal,
    /// A sum went past what a decimal holds (about 7.9e28); the sums then stop growing and
    /// are shown as too large.
    pub overflow: bool,
}

impl CurrencyTotals {
    /// The sums as shown: `(incoming, outgoing, net)`, or "too large" for each.
    pub fn shown(&self) -> (String, String, String) {
        if self.overflow {
            let big = "too large".to_string();
            return (big.clone(), big.clone(), big);
        }
        let net = self
            .incoming
            .checked_add(self.outgoing)
            .map(|n| n.to_string())
            .unwrap_or_else(|| "too large".into());
        (self.incoming.to_string(), self.outgoing.to_string(), net)
    }
}

/// A summary of a transaction list.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Number of transactions.
    pub count: usize,
    /// Earliest booking (else value) date.
    pub first: Option<NaiveDate>,
    /// Latest booking (else value) date.
    pub last: Option<NaiveDate>,
    /// Totals per currency code.
    pub totals: BTreeMap<String, CurrencyTotals>,
}

impl Summary {
    /// Adds one transaction.
    pub fn add(&mut self, t: &Transaction) {
        self.count += 1;
        if let Some(d) = t.booking_date.or(t.value_date) {
            self.first = Some(self.first.map_or(d, |f| f.min(d)));
            self.last = Some(self.last.map_or(d, |l| l.max(d)));
        }
        let totals = self
            .totals
            .entry(t.amount.currency.to_string())
            .or_default();
        // Amounts come from the bank: a sum past the decimal range is flagged, not a panic.
        let sum = if t.amount.is_negative() {
            &mut totals.outgoing
        } else {
            &mut totals.incoming
        };
        match sum.checked_add(t.amount.amount) {
            Some(total) => *sum = total,
            None => totals.overflow = true,
        }
    }
}

/// Summarizes a list.
pub fn summarize(list: &[Transaction]) -> Summary {
    let mut s = Summary::default();
    for t in list {
        s.add(t);
    }
    s
}

/// The summary as text lines.
pub fn summary_text(s: &Summary) -> String {
    let mut out = format!(
        "{} transaction{}",
        s.count,
        if s.count == 1 { "" } else { "s" }
    );
    if let (Some(first), Some(last)) = (s.first, s.last) {
        out.push_str(&format!(", {first} .. {last}"));
    }
    out.push('\n');
    for (currency, t) in &s.totals {
        let (incoming, outgoing, net) = t.shown();
        out.push_str(&format!(
            "  {currency}: in {incoming}  out {outgoing}  net {net}\n"
        ));
    }
    out
}

/// The summary as table rows: `count, from, to, currency, in, out`, one row per currency
/// (count and dates on the first only).
pub fn summary_row_cells(s: &Summary) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for (i, (currency, t)) in s.totals.iter().enumerate() {
        let lead = if i == 0 {
            vec![s.count.to_string(), date(s.first), date(s.last)]
        } else {
            vec![String::new(), String::new(), String::new()]
        };
        let mut row = lead;
        let (incoming, outgoing, _) = t.shown();
        row.extend([currency.clone(), incoming, outgoing]);
        rows.push(row);
    }
    if rows.is_empty() {
        rows.push(vec!["0".into()]);
    }
    rows
}

/// The balance shown in account tables: the first "available"-like one, else the first.
pub fn headline_balance(balances: &[Balance]) -> Option<&Balance> {
    use psd2::BalanceType as B;
    [
        B::InterimAvailable,
        B::Expected,
        B::InterimBooked,
        B::ClosingBooked,
    ]
    .iter()
    .find_map(|kind| balances.iter().find(|b| &b.balance_type == kind))
    .or_else(|| balances.first())
}

fn account_label(a: &Account) -> String {
    a.name
        .clone()
        .or_else(|| a.product.clone())
        .unwrap_or_default()
}

/// Accounts as a table, CSV (one row per account and balance), or JSON.
pub fn accounts(list: &[Account], format: crate::cli::Format) -> Result<String, CliError> {
    use crate::cli::Format;
    Ok(match format {
        Format::Json => json(list)?,
        Format::Csv => {
            let mut out = csv_line(&ACCOUNT_COLUMNS);
            for a in list {
                let base = vec![
                    a.id.to_string(),
                    opt(&a.iban),
                    opt(&a.currency),
                    a.name.clone().unwrap_or_default(),
                    a.product.clone().unwrap_or_default(),
                    opt(&a.status),
                ];
                if a.balances.is_empty() {
                    let mut row = base.clone();
                    row.extend([String::new(), String::new(), String::new()]);
                    out.push_str(&csv_line(&row));
                }
                for b in &a.balances {
                    let mut row = base.clone();
                    row.extend([
                        b.balance_type.to_string(),
                        b.amount.amount.to_string(),
                        b.amount.currency.to_string(),
                    ]);
                    out.push_str(&csv_line(&row));
                }
            }
            out
        }
        Format::Table => account_table(list, None).render(),
    })
}

/// The account table (optionally with a leading bank column).
pub fn account_table(list: &[Account], bank: Option<&str>) -> Table {
    let mut header = vec!["id", "iban", "currency", "name", "balance", "type"];
    let mut right = vec![4];
    if bank.is_some() {
        header.insert(0, "bank");
        right = vec![5];
    }
    let mut table = Table::new(&header, &right);
    for a in list {
        let balance = headline_balance(&a.balances);
        let mut row = vec![
            a.id.to_string(),
            opt(&a.iban),
            opt(&a.currency),
            shorten(&account_label(a), 30),
            balance
                .map(|b| b.amount.amount.to_string())
                .unwrap_or_default(),
            balance
                .map(|b| b.balance_type.to_string())
                .unwrap_or_default(),
        ];
        if let Some(bank) = bank {
            row.insert(0, bank.to_string());
        }
        table.row(row);
    }
    table
}

/// Balances of one account.
pub fn balances(
    account: &str,
    list: &[Balance],
    format: crate::cli::Format,
) -> Result<String, CliError> {
    use crate::cli::Format;
    let cells = |b: &Balance| {
        vec![
            account.to_string(),
            b.balance_type.to_string(),
            b.amount.amount.to_string(),
            b.amount.currency.to_string(),
            date(b.reference_date),
            opt(&b.credit_limit_included),
        ]
    };
    Ok(match format {
        Format::Json => json(list)?,
        Format::Csv => {
            let mut out = csv_line(&BALANCE_COLUMNS);
            for b in list {
                out.push_str(&csv_line(&cells(b)));
            }
            out
        }
        Format::Table => {
            let mut table = Table::new(&BALANCE_COLUMNS[1..], &[1]);
            for b in list {
                table.row(cells(b).split_off(1));
            }
            table.render()
        }
    })
}

/// Card accounts.
pub fn cards(list: &[CardAccount], format: crate::cli::Format) -> Result<String, CliError> {
    use crate::cli::Format;
    let cells = |c: &CardAccount| {
        let balance = headline_balance(&c.balances);
        vec![
            c.id.to_string(),
            c.masked_pans.join(" "),
            opt(&c.currency),
            c.name.clone().unwrap_or_default(),
            c.product.clone().unwrap_or_default(),
            opt(&c.status),
            c.credit_limit
                .as_ref()
                .map(|m| m.amount.to_string())
                .unwrap_or_default(),
            balance
                .map(|b| b.amount.amount.to_string())
                .unwrap_or_default(),
        ]
    };
    Ok(match format {
        Format::Json => json(list)?,
        Format::Csv => {
            let mut out = csv_line(&CARD_COLUMNS);
            for c in list {
                out.push_str(&csv_line(&cells(c)));
            }
            out
        }
        Format::Table => {
            let mut table = Table::new(&CARD_COLUMNS, &[6, 7]);
            for c in list {
                table.row(cells(c));
            }
            table.render()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use psd2::transaction::Party;
    use psd2::{Money, TransactionStatus};

    fn tx(amount: &str, day: u32, name: &str, text: &str) -> Transaction {
        let mut t = Transaction::new(
            TransactionStatus::Booked,
            Money::parse(amount, "SEK").expect("money"),
        );
        t.booking_date = NaiveDate::from_ymd_opt(2024, 3, day);
        t.value_date = t.booking_date;
        let mut party = Party::default();
        party.name = Some(name.to_string());
        if t.amount.is_negative() {
            t.creditor = Some(party);
        } else {
            t.debtor = Some(party);
        }
        t.remittance_unstructured = Some(text.to_string());
        t.transaction_id = Some(psd2::TransactionId::new(format!("t{day}")));
        t
    }

    #[test]
    fn csv_has_fixed_columns_exact_amounts_and_quoting() {
        let list = vec![
            tx("-1234.50", 2, "ICA, Kvantum", "say \"hi\""),
            tx("100.000", 1, "Employer", "salary"),
        ];
        let out = transactions(&list, crate::cli::Format::Csv).expect("csv");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "booking_date,value_date,status,amount,currency,counterparty,remittance,transaction_id"
        );
        assert_eq!(
            lines[1],
            "2024-03-02,2024-03-02,booked,-1234.50,SEK,\"ICA, Kvantum\",\"say \"\"hi\"\"\",t2"
        );
        assert_eq!(
            lines[2],
            "2024-03-01,2024-03-01,booked,100.000,SEK,Employer,salary,t1"
        );
    }

    #[test]
    fn summary_is_exact_per_currency() {
        let list = vec![
            tx("-0.10", 5, "a", ""),
            tx("-0.20", 3, "b", ""),
            tx("0.30", 9, "c", ""),
        ];
        let s = summarize(&list);
        assert_eq!(s.count, 3);
        assert_eq!(s.first, NaiveDate::from_ymd_opt(2024, 3, 3));
        assert_eq!(s.last, NaiveDate::from_ymd_opt(2024, 3, 9));
        let sek = &s.totals["SEK"];
        assert_eq!(sek.incoming.to_string(), "0.30");
        assert_eq!(sek.outgoing.to_string(), "-0.30");
        assert!(summary_text(&s).contains("SEK: in 0.30  out -0.30  net 0.00"));
    }

    #[test]
    fn sums_past_the_decimal_range_are_flagged_not_a_panic() {
        // Decimal's maximum is 2^96 - 1 = 79228162514264337593543950335 (rust_decimal docs).
        let max = "79228162514264337593543950335";
        let list = vec![
            tx(max, 1, "a", ""),
            tx(max, 2, "b", ""),
            tx("-1", 3, "c", ""),
        ];
        let s = summarize(&list);
        assert_eq!(s.count, 3);
        assert!(s.totals["SEK"].overflow);
        let text = summary_text(&s);
        assert!(text.contains("SEK: in too large"), "{text}");
        let rows = summary_row_cells(&s);
        assert_eq!(rows[0][4], "too large");
        let out = transactions(&list, crate::cli::Format::Table).expect("table");
        assert!(out.contains("3 transactions"), "{out}");
    }

    #[test]
    fn tables_never_pass_terminal_control_sequences_through() {
        // ESC [ 2 J clears the screen; a line break would forge a row.
        let list = vec![tx("-5.00", 1, "Shop\u{1b}[2J", "fake\nrow")];
        let out = transactions(&list, crate::cli::Format::Table).expect("table");
        assert!(!out.contains('\u{1b}'), "{out:?}");
        assert!(out.contains("Shop\u{FFFD}[2J"), "{out:?}");
        assert_eq!(out.lines().count(), 2 + 1 + 2, "{out}");
        assert_eq!(printable("abcdef", 3), "abc…");
    }

    #[test]
    fn table_aligns_columns() {
        let mut t = Table::new(&["a", "amount"], &[1]);
        t.row(vec!["xx".into(), "1.5".into()]);
        t.row(vec!["y".into(), "-100.25".into()]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "a    amount");
        assert_eq!(lines[2], "xx      1.5");
        assert_eq!(lines[3], "y   -100.25");
    }
}
