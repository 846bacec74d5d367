//! Accounts, balances, transactions and card accounts of a registry bank.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use chrono::{Days, NaiveDate};
use psd2_registry::BookingStatusKind;
use serde_json::{Value, json};

use super::render::{BALANCE_TYPES, BgTxn};
use super::{BgError, HOST, R, RegistryBank, link};
use crate::access::Scope;
use crate::banks::bg_balances;
use crate::banks::common::{
    consented_account, covered_accounts, next_page_url, transactions_page, with_balance,
};
use crate::banks::render::json_page;
use crate::errors::ApiError;
use crate::fixtures::{Account, AccountKind};
use crate::paging::{Page, TxQuery};
use crate::state::AisRequest;
use crate::util::{parse_date, psu_present, require_header};
use serde::Serialize;

type Q = Query<HashMap<String, String>>;

fn not_offered(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "SERVICE_INVALID",
        format!("This bank does not offer {what}."),
    )
}

fn not_supported(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "PARAMETER_NOT_SUPPORTED",
        format!("This bank does not support {what}."),
    )
}

impl RegistryBank {
    /// `withBalance=true` where the profile does not support it: 400.
    fn check_with_balance(&self, q: &HashMap<String, String>) -> Result<bool, BgError> {
        let asked = with_balance(q);
        if asked && !self.entry.profile.accounts.with_balance {
            return Err(self.err(not_supported("withBalance")));
        }
        Ok(asked)
    }

    fn check_cards(&self) -> Result<(), BgError> {
        if self.entry.profile.accounts.card_accounts {
            Ok(())
        } else {
            Err(self.err(not_offered("card accounts")))
        }
    }

    /// The account `id` through the request's consent, for `scope`.
    fn account(
        &self,
        headers: &HeaderMap,
        id: &str,
        continuation: bool,
        scope: Scope,
        card: bool,
    ) -> Result<Account, BgError> {
        let e = |err| self.err(err);
        let cid = require_header(headers, "consent-id").map_err(e)?;
        let client = self.tpp(headers);
        let request = AisRequest {
            account_id: Some(id),
            psu_present: psu_present(headers),
            date_from: None,
            continuation,
            card,
            client_id: client.as_deref(),
            scope,
        };
        let what = if card { "Card account" } else { "Account" };
        consented_account(&self.state, HOST, cid, request, what)
            .map_err(|err| self.ais_err(cid, err))
    }

    /// An AIS refusal; a consent the PSU revoked is refused with the bank's own code for
    /// that, when the profile maps one.
    fn ais_err(&self, cid: &str, err: ApiError) -> BgError {
        let revoked = err.code == "CONSENT_INVALID"
            && self
                .state
                .consent(HOST, cid)
                .is_ok_and(|c| c.status == crate::state::ConsentStatus::RevokedByPsu);
        if revoked {
            BgError::of_kind(
                &self.entry,
                err,
                Some(psd2_registry::MappedError::ConsentRevoked),
            )
        } else {
            self.err(err)
        }
    }

    /// The accounts of `kind` the request's consent covers, each with whether its balances
    /// are granted.
    fn covered(
        &self,
        headers: &HeaderMap,
        kind: AccountKind,
    ) -> Result<Vec<(&Account, bool)>, BgError> {
        let e = |err| self.err(err);
        let cid = require_header(headers, "consent-id").map_err(e)?;
        let client = self.tpp(headers);
        covered_accounts(
            &self.state,
            HOST,
            cid,
            client.as_deref(),
            psu_present(headers),
            kind,
        )
        .map_err(|err| self.ais_err(cid, err))
    }

    /// Which entries `bookingStatus` asks for, as the profile allows: `(booked, pending)`,
    /// or `None` for `information` (standing orders; the sandbox has none).
    fn booking(
        &self,
        q: &HashMap<String, String>,
        card: bool,
    ) -> Result<Option<(bool, bool)>, BgError> {
        let e = |err| self.err(err);
        let raw = q.get("bookingStatus").ok_or_else(|| {
            e(ApiError::format(
                "Missing required query parameter bookingStatus.",
            ))
        })?;
        let kind = match raw.as_str() {
            "booked" => BookingStatusKind::Booked,
            "pending" => BookingStatusKind::Pending,
            "both" => BookingStatusKind::Both,
            "information" if !card => BookingStatusKind::Information,
            "all" if !card => return Err(e(not_supported("bookingStatus=all"))),
            _ => {
                return Err(e(ApiError::format(
                    "bookingStatus is not one of booked, pending, both, information.",
                )));
            }
        };
        if !self
            .entry
            .profile
            .transactions
            .booking_statuses
            .contains(&kind)
        {
            return Err(e(not_supported(&format!("bookingStatus={raw}"))));
        }
        Ok(match kind {
            BookingStatusKind::Booked => Some((true, false)),
            BookingStatusKind::Pending => Some((false, true)),
            BookingStatusKind::Both => Some((true, true)),
            BookingStatusKind::Information => None,
        })
    }

    /// The transaction query of a request: `dateFrom` (default: 90 days back, or the
    /// profile's whole history when shorter; earlier than `history_days` back: 400
    /// `PERIOD_INVALID`), `dateTo` (default today) and the continuation key.
    fn tx_query(
        &self,
        q: &HashMap<String, String>,
        (booked, pending): (bool, bool),
    ) -> Result<TxQuery, BgError> {
        let e = |err| self.err(err);
        let today = self.state.clock.today();
        let days = u64::from(self.entry.profile.transactions.history_days);
        let earliest = today
            .checked_sub_days(Days::new(days))
            .unwrap_or(NaiveDate::MIN);
        let date_from = parse_date("dateFrom", q.get("dateFrom"))
            .map_err(e)?
            .unwrap_or_else(|| {
                today
                    .checked_sub_days(Days::new(days.min(90)))
                    .unwrap_or(today)
            });
        let date_to = parse_date("dateTo", q.get("dateTo"))
            .map_err(e)?
            .unwrap_or(today);
        let period = |m: String| e(ApiError::new(StatusCode::BAD_REQUEST, "PERIOD_INVALID", m));
        if date_from < earliest {
            return Err(period(format!(
                "dateFrom is more than {days} days back; this bank reports {days} days."
            )));
        }
        if date_from > date_to {
            return Err(period("dateFrom is after dateTo.".into()));
        }
        Ok(TxQuery {
            booked,
            pending,
            date_from,
            date_to,
            key: q.get("continuationKey").cloned(),
        })
    }

    /// One page of `account`'s entries and the report's `_links` (`account`, `next`).
    fn page(
        &self,
        path: &str,
        account_path: &str,
        account: &Account,
        query: &TxQuery,
        q: &HashMap<String, String>,
    ) -> Result<(Page, Value), BgError> {
        let page = transactions_page(&self.state, HOST, path, account, query)
            .map_err(|err| self.err(err))?;
        let mut links = json!({"account": link(self.url(account_path))});
        if let Some(k) = &page.next_key {
            links["next"] = link(next_page_url(&self.url(path), q, k));
        }
        Ok((page, links))
    }

    fn balances_granted(&self, headers: &HeaderMap, a: &Account) -> bool {
        crate::util::header(headers, "consent-id")
            .and_then(|cid| self.state.consent(HOST, cid).ok())
            .is_some_and(|c| crate::access::allows(&c.access, a, Scope::Balances))
    }
}

pub(super) async fn list(
    State(bank): State<Arc<RegistryBank>>,
    headers: HeaderMap,
    Query(q): Q,
) -> R {
    let wb = bank.check_with_balance(&q)?;
    let accounts: Vec<Value> = bank
        .covered(&headers, AccountKind::Payment)?
        .into_iter()
        .map(|(a, granted)| bank.account_json(a, wb && granted))
        .collect();
    Ok(axum::Json(json!({"accounts": accounts})).into_response())
}

pub(super) async fn details(
    State(bank): State<Arc<RegistryBank>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Q,
) -> R {
    let wb = bank.check_with_balance(&q)?;
    let scope = if wb { Scope::Balances } else { Scope::Accounts };
    let a = bank.account(&headers, &id, false, scope, false)?;
    Ok(axum::Json(json!({"account": bank.account_json(&a, wb)})).into_response())
}

pub(super) async fn balances(
    State(bank): State<Arc<RegistryBank>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> R {
    let a = bank.account(&headers, &id, false, Scope::Balances, false)?;
    Ok(axum::Json(json!({
        "account": {"iban": a.iban, "currency": a.currency},
        "balances": bg_balances(&bank.state, &a, BALANCE_TYPES),
    }))
    .into_response())
}

/// A transaction page.
#[derive(Serialize)]
struct TxPage<'a> {
    account: AccountRef<'a>,
    transactions: TxReport<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    balances: Option<Value>,
}

#[derive(Serialize)]
struct AccountRef<'a> {
    iban: Option<&'a str>,
    currency: &'a str,
}

/// The report: only the lists asked for.
#[derive(Serialize)]
struct TxReport<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    booked: Option<Vec<BgTxn<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pending: Option<Vec<BgTxn<'a>>>,
    #[serde(rename = "_links")]
    links: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Details<'a> {
    transactions_details: BgTxn<'a>,
}

pub(super) async fn transactions(
    State(bank): State<Arc<RegistryBank>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Q,
) -> R {
    let wb = bank.check_with_balance(&q)?;
    let booking = bank.booking(&q, false)?;
    let account_path = format!("/v1/accounts/{id}");
    let Some(booking) = booking else {
        let a = bank.account(&headers, &id, false, Scope::Transactions, false)?;
        return Ok(axum::Json(json!({
            "account": {"iban": a.iban, "currency": a.currency},
            "transactions": {"information": [], "_links": {"account": link(bank.url(&account_path))}},
        }))
        .into_response());
    };
    let query = bank.tx_query(&q, booking)?;
    let a = bank.account(
        &headers,
        &id,
        query.key.is_some(),
        Scope::Transactions,
        false,
    )?;
    let path = format!("{account_path}/transactions");
    let (page, links) = bank.page(&path, &account_path, &a, &query, &q)?;
    let booked = booking
        .0
        .then(|| page.booked.iter().map(|t| bank.txn(&a, t)).collect());
    let pending = booking
        .1
        .then(|| page.pending.iter().map(|t| bank.txn(&a, t)).collect());
    let body = TxPage {
        account: AccountRef {
            iban: a.iban.as_deref(),
            currency: a.currency,
        },
        transactions: TxReport {
            booked,
            pending,
            links,
        },
        balances: (wb && bank.balances_granted(&headers, &a))
            .then(|| bg_balances(&bank.state, &a, BALANCE_TYPES)),
    };
    Ok(json_page(&body, page.booked.len() + page.pending.len()))
}

pub(super) async fn transaction_details(
    State(bank): State<Arc<RegistryBank>>,
    headers: HeaderMap,
    Path((id, tid)): Path<(String, String)>,
) -> R {
    if !bank.entry.profile.transactions.details {
        return Err(bank.err(not_offered("transaction details")));
    }
    let a = bank.account(&headers, &id, false, Scope::Transactions, false)?;
    let t = bank
        .find_txn(&a, &tid)
        .ok_or_else(|| bank.err(ApiError::resource_unknown("Transaction")))?;
    let body = Details {
        transactions_details: bank.txn(&a, &t),
    };
    Ok(json_page(&body, 1))
}

pub(super) async fn card_list(State(bank): State<Arc<RegistryBank>>, headers: HeaderMap) -> R {
    bank.check_cards()?;
    let cards: Vec<Value> = bank
        .covered(&headers, AccountKind::Card)?
        .into_iter()
        .map(|(a, _)| bank.card_json(a, false))
        .collect();
    Ok(axum::Json(json!({"cardAccounts": cards})).into_response())
}

pub(super) async fn card_details(
    State(bank): State<Arc<RegistryBank>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> R {
    bank.check_cards()?;
    let a = bank.account(&headers, &id, false, Scope::Accounts, true)?;
    Ok(axum::Json(json!({"cardAccount": bank.card_json(&a, false)})).into_response())
}

pub(super) async fn card_balances(
    State(bank): State<Arc<RegistryBank>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> R {
    bank.check_cards()?;
    let a = bank.account(&headers, &id, false, Scope::Balances, true)?;
    Ok(axum::Json(json!({
        "cardAccount": {"maskedPan": a.masked_pan, "currency": a.currency},
        "debitAccounting": false,
        "balances": bg_balances(&bank.state, &a, BALANCE_TYPES),
    }))
    .into_response())
}

pub(super) async fn card_transactions(
    State(bank): State<Arc<RegistryBank>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Q,
) -> R {
    bank.check_cards()?;
    let booking = bank.booking(&q, true)?.unwrap_or((true, false));
    let query = bank.tx_query(&q, booking)?;
    let a = bank.account(
        &headers,
        &id,
        query.key.is_some(),
        Scope::Transactions,
        true,
    )?;
    let account_path = format!("/v1/card-accounts/{id}");
    let path = format!("{account_path}/transactions");
    let (page, links) = bank.page(&path, &account_path, &a, &query, &q)?;
    let mut report = json!({"_links": links});
    if booking.0 {
        report["booked"] = page
            .booked
            .iter()
            .map(|t| bank.card_txn_json(&a, t))
            .collect();
    }
    if booking.1 {
        report["pending"] = page
            .pending
            .iter()
            .map(|t| bank.card_txn_json(&a, t))
            .collect();
    }
    Ok(axum::Json(json!({
        "cardAccount": {"maskedPan": a.masked_pan, "currency": a.currency},
        "debitAccounting": false,
        "cardTransactions": report,
    }))
    .into_response())
}
