//! The sandbox's people, accounts and transactions: all pure functions of the seed.
//!
//! Transactions are never stored: transaction `i` of an account is computed on demand from
//! `(seed, account, i)`, so a history of a million entries costs no memory and any page is
//! cheap to produce. Balances are defined first (`balance_after(i)`), amounts are the
//! differences between consecutive balances, so `balanceAfterTransaction` is exact without
//! summing the history.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;

use crate::Bank;
use crate::iban;
use crate::rng::{below, hash, mix, str_part, uuid_from, uuid_with_tail};

/// How many days of history the generated accounts cover.
pub const HISTORY_DAYS: u64 = 730;

/// Whether a PSU is a person or a company.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PsuKind {
    /// A private person.
    Private,
    /// A company (has a corporate id).
    Corporate,
}

/// One of the fixed sandbox PSUs of `docs/architecture.md`.
#[derive(Debug, Clone)]
pub struct Psu {
    /// The PSU id (`private-1`, ...).
    pub id: &'static str,
    /// Display name, used as `ownerName`.
    pub name: &'static str,
    /// Private or corporate.
    pub kind: PsuKind,
    /// Corporate id for corporate PSUs.
    pub corporate_id: Option<&'static str>,
    /// Whether this PSU rejects every SCA.
    pub always_rejects: bool,
}

/// The fixed list of sandbox PSUs.
pub const PSUS: [Psu; 4] = [
    Psu {
        id: "private-1",
        name: "Anna Andersson",
        kind: PsuKind::Private,
        corporate_id: None,
        always_rejects: false,
    },
    Psu {
        id: "private-2",
        name: "Bjorn Berg",
        kind: PsuKind::Private,
        corporate_id: None,
        always_rejects: false,
    },
    Psu {
        id: "corporate-1",
        name: "Foretaget AB",
        kind: PsuKind::Corporate,
        corporate_id: Some("5560000001"),
        always_rejects: false,
    },
    Psu {
        id: "reject-1",
        name: "Rebecka Nej",
        kind: PsuKind::Private,
        corporate_id: None,
        always_rejects: true,
    },
];

/// Finds a PSU by id.
pub fn psu(id: &str) -> Option<&'static Psu> {
    PSUS.iter().find(|p| p.id == id)
}

/// Whether an account is a payment account or a card account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    /// A current or savings account with an IBAN.
    Payment,
    /// A credit/charge card account (masked PAN, credit limit).
    Card,
}

/// One account of one PSU at one bank.
#[derive(Debug, Clone)]
pub struct Account {
    /// Owning PSU id.
    pub psu: &'static str,
    /// The bank this account lives at.
    pub bank: Bank,
    /// The account's resource id in the API.
    pub resource_id: String,
    /// Payment or card account.
    pub kind: AccountKind,
    /// IBAN (payment accounts; card accounts have none).
    pub iban: Option<String>,
    /// BBAN (national account number).
    pub bban: Option<String>,
    /// ISO 4217 currency.
    pub currency: &'static str,
    /// Account name as the PSU sees it.
    pub name: String,
    /// Product name.
    pub product: &'static str,
    /// BG cash account type.
    pub cash_account_type: &'static str,
    /// Owner name.
    pub owner_name: &'static str,
    /// Masked PAN for card accounts.
    pub masked_pan: Option<String>,
    /// Credit limit in minor units (card accounts).
    pub credit_limit_cents: Option<i64>,
    /// Total number of transactions (booked + pending).
    pub history: u64,
    /// How many of the newest transactions are pending.
    pub pending: u64,
    /// Per-account hash key.
    pub key: u64,
    /// Scale of amounts (corporate accounts move more money).
    pub scale: i64,
}

/// A kind of generated transaction, which decides the extra fields it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnKind {
    /// A card purchase in a foreign currency (currency exchange and fee).
    CardAbroad,
    /// A bill payment with structured (OCR/invoice) remittance.
    Invoice,
    /// A plain transfer.
    Transfer,
    /// A bank fee.
    Fee,
    /// A domestic card purchase.
    CardPurchase,
}

/// Currency exchange data of a transaction.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The foreign currency.
    pub target_currency: &'static str,
    /// Rate from account currency to target currency.
    pub rate: Decimal,
    /// Amount in the target currency.
    pub target_amount: Decimal,
    /// Exchange fee in the account currency.
    pub fee: Decimal,
}

/// One generated transaction.
#[derive(Debug, Clone)]
pub struct Txn {
    /// Index in the account's history (0 = oldest).
    pub index: u64,
    /// Transaction id (its last UUID group encodes the index).
    pub id: String,
    /// Booked (true) or pending.
    pub booked: bool,
    /// Booking date (booked only).
    pub booking_date: Option<NaiveDate>,
    /// Value date.
    pub value_date: NaiveDate,
    /// Signed amount in the account currency.
    pub amount: Decimal,
    /// Account currency.
    pub currency: &'static str,
    /// Booked balance after this transaction (booked only).
    pub balance_after: Option<Decimal>,
    /// What kind of transaction this is.
    pub kind: TxnKind,
    /// The other party's name.
    pub counterparty: String,
    /// The other party's IBAN, when known.
    pub counterparty_iban: Option<String>,
    /// Free-text remittance.
    pub remittance: String,
    /// Structured reference (OCR / invoice number), when any.
    pub structured_reference: Option<String>,
    /// Currency exchange data, when any.
    pub exchange: Option<Exchange>,
    /// Entry reference.
    pub entry_reference: String,
}

const MERCHANTS: [&str; 8] = [
    "ICA Maxi",
    "Coop Konsum",
    "SJ AB",
    "Systembolaget",
    "Clas Ohlson",
    "Pressbyran",
    "Apotek Hjartat",
    "Circle K",
];
const PAYEES: [&str; 5] = [
    "Vattenfall AB",
    "Telia Sverige AB",
    "Skatteverket",
    "Hyresvarden AB",
    "Folksam",
];
const PAYERS: [&str; 4] = [
    "Arbetsgivaren AB",
    "Forsakringskassan",
    "Kund AB",
    "Lars Larsson",
];

/// All fixture data of one sandbox instance.
#[derive(Debug, Clone)]
pub struct Fixtures {
    seed: u64,
    today: NaiveDate,
    accounts: Vec<Account>,
    by_id: HashMap<String, usize>,
}

struct Plan {
    psu: &'static str,
    currency: &'static str,
    kind: AccountKind,
    name: &'static str,
    product: &'static str,
    cash: &'static str,
    long: bool,
}

fn plans() -> Vec<Plan> {
    let p = |psu, currency, kind, name, product, cash, long| Plan {
        psu,
        currency,
        kind,
        name,
        product,
        cash,
        long,
    };
    use AccountKind::{Card, Payment};
    vec![
        p(
            "private-1",
            "SEK",
            Payment,
            "Allkonto",
            "Allkonto Ung",
            "CACC",
            true,
        ),
        p(
            "private-1",
            "SEK",
            Payment,
            "Sparkonto",
            "Sparkonto",
            "SVGS",
            false,
        ),
        p(
            "private-1",
            "NOK",
            Payment,
            "Brukskonto",
            "Brukskonto",
            "CACC",
            false,
        ),
        p(
            "private-1",
            "EUR",
            Payment,
            "Euro account",
            "Currency Account",
            "CACC",
            false,
        ),
        p(
            "private-1",
            "SEK",
            Card,
            "Mastercard",
            "Platinum",
            "CARD",
            false,
        ),
        p(
            "private-2",
            "SEK",
            Payment,
            "Lonekonto",
            "Allkonto",
            "CACC",
            false,
        ),
        p(
            "private-2",
            "EUR",
            Payment,
            "Euro account",
            "Currency Account",
            "CACC",
            false,
        ),
        p(
            "corporate-1",
            "SEK",
            Payment,
            "Foretagskonto",
            "Business Account",
            "CACC",
            false,
        ),
        p(
            "corporate-1",
            "NOK",
            Payment,
            "Driftskonto",
            "Business Account",
            "CACC",
            false,
        ),
        p(
            "corporate-1",
            "EUR",
            Payment,
            "Euro business",
            "Currency Account",
            "CACC",
            false,
        ),
        p(
            "corporate-1",
            "SEK",
            Card,
            "Business card",
            "Business Card",
            "CARD",
            false,
        ),
        p(
            "reject-1", "SEK", Payment, "Allkonto", "Allkonto", "CACC", false,
        ),
    ]
}

fn bank_codes(bank: Bank) -> (&'static str, &'static str, &'static str) {
    // (SE clearing/bank code, NO bank register number, FI bank code)
    match bank {
        Bank::Handelsbanken => ("600", "9041", "31"),
        Bank::OpenPayments => ("500", "9710", "33"),
        Bank::Swedbank => ("800", "8101", "36"),
    }
}

impl Fixtures {
    /// Builds the fixtures for `seed`, with the long account holding `history_size` entries.
    pub fn new(seed: u64, today: NaiveDate, history_size: u64) -> Self {
        let mut accounts = Vec::new();
        for bank in Bank::ALL {
            let (se, no, fi) = bank_codes(bank);
            for (n, plan) in plans().into_iter().enumerate() {
                let key = hash(&[seed, str_part(bank.prefix()), n as u64]);
                let owner = psu(plan.psu).map(|p| p.name).unwrap_or("Unknown");
                let digits = format!("{:017}", mix(key) % 100_000_000_000_000_000);
                let (iban_v, bban) = match (plan.kind, plan.currency) {
                    (AccountKind::Card, _) => (None, None),
                    (_, "NOK") => {
                        // NO BBAN: 4-digit bank, 6-digit account, MOD11 check digit.
                        let mut k = key;
                        let ten = loop {
                            let t = format!("{no}{:06}", mix(k) % 1_000_000);
                            if iban::norway_mod11(&t).is_some() {
                                break t;
                            }
                            k = mix(k);
                        };
                        let bban = format!("{ten}{}", iban::norway_mod11(&ten).unwrap_or(0));
                        (Some(iban::iban("NO", &bban)), Some(bban))
                    }
                    (_, "EUR") => {
                        let thirteen = format!("{fi}{}", &digits[..11]);
                        let bban = format!("{thirteen}{}", iban::luhn(&thirteen));
                        (Some(iban::iban("FI", &bban)), Some(bban))
                    }
                    _ => {
                        let bban = format!("{se}{}", &digits[..17]);
                        (
                            Some(iban::iban("SE", &bban)),
                            Some(digits[6..17].to_string()),
                        )
                    }
                };
                let (masked_pan, credit_limit_cents) = if plan.kind == AccountKind::Card {
                    let last4 = mix(key ^ 7) % 10_000;
                    (
                        Some(format!("5123********{last4:04}")),
                        Some(2_000_000 * if plan.psu == "corporate-1" { 5 } else { 1 }),
                    )
                } else {
                    (None, None)
                };
                let history = if plan.long {
                    history_size
                } else if plan.kind == AccountKind::Card {
                    60
                } else {
                    150 + below(mix(key ^ 3), 100)
                };
                let pending = if history >= 20 { 3 } else { 0 };
                accounts.push(Account {
                    psu: plan.psu,
                    bank,
                    resource_id: uuid_from(key),
                    kind: plan.kind,
                    iban: iban_v,
                    bban,
                    currency: plan.currency,
                    name: plan.name.to_string(),
                    product: plan.product,
                    cash_account_type: plan.cash,
                    owner_name: owner,
                    masked_pan,
                    credit_limit_cents,
                    history,
                    pending,
                    key,
                    scale: if plan.psu == "corporate-1" { 10 } else { 1 },
                });
            }
        }
        let by_id = accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.resource_id.clone(), i))
            .collect();
        Self {
            seed,
            today,
            accounts,
            by_id,
        }
    }

    /// The seed the data was built from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The "today" the history ends at.
    pub fn today(&self) -> NaiveDate {
        self.today
    }

    /// Accounts of `psu` at `bank` of the given kind, in a stable order.
    pub fn accounts_of(&self, bank: Bank, psu: &str, kind: AccountKind) -> Vec<&Account> {
        self.accounts
            .iter()
            .filter(|a| a.bank == bank && a.psu == psu && a.kind == kind)
            .collect()
    }

    /// Looks an account up by resource id at `bank`.
    pub fn account(&self, bank: Bank, resource_id: &str) -> Option<&Account> {
        self.by_id
            .get(resource_id)
            .and_then(|i| self.accounts.get(*i))
            .filter(|a| a.bank == bank)
    }

    /// Every account (all banks).
    pub fn all_accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// First day of the generated history.
    pub fn history_start(&self) -> NaiveDate {
        self.today
            .checked_sub_days(Days::new(HISTORY_DAYS))
            .unwrap_or(self.today)
    }
}

impl Account {
    /// Number of booked transactions.
    pub fn booked_count(&self) -> u64 {
        self.history - self.pending
    }

    fn balance_cents(&self, j: u64) -> i64 {
        // j = number of booked transactions applied (0 = opening balance).
        let period = 40_i64;
        let phase = i64::try_from(j % 40).unwrap_or(0);
        let tri = if phase < period / 2 {
            phase
        } else {
            period - phase
        };
        let noise = below(hash(&[self.key, j, 11]), 60_000) as i64 - 30_000;
        self.scale * (1_000_000 + tri * 60_000 + noise)
    }

    /// The booked balance after `n` booked transactions.
    pub fn balance_after_n(&self, n: u64) -> Decimal {
        Decimal::new(self.balance_cents(n), 2)
    }

    /// The current booked balance.
    pub fn booked_balance(&self) -> Decimal {
        self.balance_after_n(self.booked_count())
    }

    /// Sum of pending amounts.
    pub fn pending_sum(&self, fixtures: &Fixtures) -> Decimal {
        (self.booked_count()..self.history)
            .map(|i| self.transaction(fixtures, i).amount)
            .sum()
    }

    /// Date of booked transaction `i`.
    pub fn booked_date(&self, fixtures: &Fixtures, i: u64) -> NaiveDate {
        let b = u128::from(self.booked_count().max(1));
        let offset =
            u64::try_from(u128::from(i) * u128::from(HISTORY_DAYS) / b).unwrap_or(HISTORY_DAYS);
        fixtures
            .history_start()
            .checked_add_days(Days::new(offset))
            .unwrap_or(fixtures.today)
    }

    /// The first booked index whose date is on or after `date`.
    pub fn first_booked_on_or_after(&self, fixtures: &Fixtures, date: NaiveDate) -> u64 {
        let b = self.booked_count();
        let d = (date - fixtures.history_start()).num_days();
        if d <= 0 {
            return 0;
        }
        let d = d.unsigned_abs();
        if d >= HISTORY_DAYS {
            return b;
        }
        // smallest i with i*DAYS/b >= d  <=>  i >= ceil(d*b/DAYS)
        let i = (u128::from(d) * u128::from(b)).div_ceil(u128::from(HISTORY_DAYS));
        u64::try_from(i).unwrap_or(b).min(b)
    }

    /// Parses a transaction id of this account back to its index.
    pub fn transaction_index(&self, id: &str) -> Option<u64> {
        let tail = id.rsplit('-').next()?;
        let i = u64::from_str_radix(tail, 16).ok()?;
        (i < self.history && self.transaction_id(i) == id).then_some(i)
    }

    /// The kind of transaction hash `h` makes on this account (a fee is never incoming).
    fn kind_of(&self, h: u64, amount: Decimal) -> TxnKind {
        let kind = if self.kind == AccountKind::Card {
            if below(h >> 8, 4) == 0 {
                TxnKind::CardAbroad
            } else {
                TxnKind::CardPurchase
            }
        } else {
            match below(h >> 8, 10) {
                0 => TxnKind::CardAbroad,
                1 | 2 => TxnKind::Invoice,
                3 => TxnKind::Fee,
                4..=6 => TxnKind::CardPurchase,
                _ => TxnKind::Transfer,
            }
        };
        if kind == TxnKind::Fee && amount.is_sign_positive() {
            TxnKind::Transfer
        } else {
            kind
        }
    }

    fn transaction_id(&self, i: u64) -> String {
        uuid_with_tail(hash(&[self.key, 0x7A, i / 4096]), i)
    }

    /// Transaction `i` (0 = oldest booked; indices `booked_count()..history` are pending).
    pub fn transaction(&self, fixtures: &Fixtures, i: u64) -> Txn {
        let h = hash(&[self.key, i, 0xBEEF]);
        let booked = i < self.booked_count();
        let (amount, date, balance_after) = if booked {
            let cents = self.balance_cents(i + 1) - self.balance_cents(i);
            (
                Decimal::new(cents, 2),
                self.booked_date(fixtures, i),
                Some(self.balance_after_n(i + 1)),
            )
        } else {
            let cents = -((below(h, 90_000) as i64 + 1_000) * self.scale);
            (Decimal::new(cents, 2), fixtures.today, None)
        };
        let kind = self.kind_of(h, amount);
        let incoming = amount.is_sign_positive() && !amount.is_zero();
        let counterparty = counterparty(kind, incoming, h);
        let counterparty_iban = match kind {
            TxnKind::Transfer | TxnKind::Invoice => {
                let bban = format!("{:020}", mix(h) % 10_000_000_000_000_000_000);
                Some(iban::iban("SE", &bban))
            }
            _ => None,
        };
        let structured_reference = (kind == TxnKind::Invoice).then(|| {
            let body = format!("{}", 10_000_000 + below(h >> 24, 89_999_999));
            format!("{body}{}", iban::luhn(&body))
        });
        let exchange = (kind == TxnKind::CardAbroad).then(|| exchange(amount, h));
        let remittance = match kind {
            TxnKind::CardAbroad | TxnKind::CardPurchase => format!("Card purchase {counterparty}"),
            TxnKind::Invoice => format!(
                "Invoice {}",
                structured_reference.clone().unwrap_or_default()
            ),
            TxnKind::Fee => "Monthly account fee".to_string(),
            TxnKind::Transfer if incoming => format!("Payment from {counterparty}"),
            TxnKind::Transfer => format!("Transfer to {counterparty}"),
        };
        Txn {
            index: i,
            id: self.transaction_id(i),
            booked,
            booking_date: booked.then_some(date),
            value_date: date,
            amount,
            currency: self.currency,
            balance_after,
            kind,
            counterparty,
            counterparty_iban,
            remittance,
            structured_reference,
            exchange,
            entry_reference: format!("ER{:010}", below(h >> 40, 10_000_000_000)),
        }
    }
}

/// The counterparty of a transaction of `kind` with hash `h`.
fn counterparty(kind: TxnKind, incoming: bool, h: u64) -> String {
    match kind {
        TxnKind::CardAbroad | TxnKind::CardPurchase if !incoming => {
            MERCHANTS[below(h >> 16, MERCHANTS.len() as u64) as usize].to_string()
        }
        TxnKind::Invoice if !incoming => {
            PAYEES[below(h >> 16, PAYEES.len() as u64) as usize].to_string()
        }
        TxnKind::Fee => "Bank fee".to_string(),
        _ if incoming => PAYERS[below(h >> 16, PAYERS.len() as u64) as usize].to_string(),
        _ => "Lars Larsson".to_string(),
    }
}

/// The currency exchange of a card purchase abroad of `amount` with hash `h`.
fn exchange(amount: Decimal, h: u64) -> Exchange {
    let (target, rate) = match below(h >> 32, 3) {
        0 => ("EUR", Decimal::new(8_712, 5)),
        1 => ("GBP", Decimal::new(7_683, 5)),
        _ => ("USD", Decimal::new(9_451, 5)),
    };
    let target_amount = (amount * rate).round_dp(2);
    let fee = (amount.abs() * Decimal::new(15, 3)).round_dp(2);
    Exchange {
        target_currency: target,
        rate,
        target_amount,
        fee,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fx() -> Fixtures {
        Fixtures::new(
            7,
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default(),
            10_000,
        )
    }

    #[test]
    fn ibans_are_valid_mod97() {
        for a in fx().all_accounts() {
            if let Some(iban) = &a.iban {
                let rearranged = format!("{}{}", &iban[4..], &iban[..4]);
                let mut rem = 0u32;
                for c in rearranged.chars() {
                    let v = c.to_digit(36).unwrap_or(0);
                    for d in v.to_string().chars() {
                        rem = (rem * 10 + d.to_digit(10).unwrap_or(0)) % 97;
                    }
                }
                assert_eq!(rem, 1, "{iban}");
            }
        }
    }

    #[test]
    fn balances_chain() {
        let f = fx();
        let a = &f.accounts_of(Bank::OpenPayments, "private-1", AccountKind::Payment)[0];
        assert_eq!(a.history, 10_000);
        let mut bal = a.balance_after_n(0);
        for i in 0..a.booked_count() {
            let t = a.transaction(&f, i);
            bal += t.amount;
            assert_eq!(Some(bal), t.balance_after);
        }
        assert_eq!(bal, a.booked_balance());
    }

    #[test]
    fn dates_are_monotonic_and_range_search_matches() {
        let f = fx();
        let a = &f.accounts_of(Bank::Swedbank, "private-1", AccountKind::Payment)[0];
        let d = NaiveDate::from_ymd_opt(2025, 6, 15).unwrap_or_default();
        let first = a.first_booked_on_or_after(&f, d);
        assert!(a.booked_date(&f, first) >= d);
        assert!(first == 0 || a.booked_date(&f, first - 1) < d);
    }

    #[test]
    fn the_largest_history_does_not_overflow() {
        let f = Fixtures::new(
            7,
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default(),
            u64::MAX,
        );
        let a = &f.accounts_of(Bank::Swedbank, "private-1", AccountKind::Payment)[0];
        let last = a.booked_count() - 1;
        for i in [0, 1, last / 2, last] {
            let t = a.transaction(&f, i);
            assert!(t.value_date < f.today());
            assert!(t.value_date >= f.history_start());
        }
        let mid = NaiveDate::from_ymd_opt(2025, 6, 15).unwrap_or_default();
        let first = a.first_booked_on_or_after(&f, mid);
        assert!(a.booked_date(&f, first) >= mid);
        assert!(a.booked_date(&f, first - 1) < mid);
    }

    #[test]
    fn transaction_ids_roundtrip() {
        let f = fx();
        let a = &f.accounts_of(Bank::Handelsbanken, "private-1", AccountKind::Payment)[0];
        let t = a.transaction(&f, 1234);
        assert_eq!(a.transaction_index(&t.id), Some(1234));
        assert_eq!(a.transaction_index("nope"), None);
    }
}
