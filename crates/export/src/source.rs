//! Reading the store page by page: the balances pass and the entries pass.

use std::collections::BTreeMap;

use psd2_sync::model::StoredTransaction;
use psd2_sync::store::{PeriodPage, Store};
use rust_decimal::Decimal;

use crate::{BalanceLine, ExportError, ExportRequest, Statement, StatusFilter};

/// Entries read per store query: the most an export holds in memory at once.
pub const PAGE_SIZE: u32 = 1000;

/// Pages of one period, in date then key order.
pub(crate) struct Pages {
    query: PeriodPage,
    done: bool,
}

impl Pages {
    /// The entries `request` exports.
    pub(crate) fn new(request: &ExportRequest) -> Self {
        Self::over(
            Some(request.from),
            request.to,
            request.status == StatusFilter::Both,
        )
    }

    fn over(from: Option<chrono::NaiveDate>, to: chrono::NaiveDate, include_pending: bool) -> Self {
        Self {
            query: PeriodPage {
                from,
                to: Some(to),
                include_pending,
                after: None,
                limit: PAGE_SIZE,
            },
            done: false,
        }
    }

    /// The next page, or `None` after the last.
    pub(crate) async fn next(
        &mut self,
        store: &dyn Store,
        request: &ExportRequest,
    ) -> Result<Option<Vec<StoredTransaction>>, ExportError> {
        if self.done {
            return Ok(None);
        }
        let page = store
            .transactions_page(&request.connection, &request.account, &self.query)
            .await?;
        match page.last() {
            Some(last) if page.len() >= self.query.limit as usize => {
                let date = last.date.ok_or_else(|| ExportError::Invalid {
                    field: "transactions.date",
                    reason: "a paged entry has no date".into(),
                })?;
                self.query.after = Some((date, last.key.clone()));
            }
            _ => self.done = true,
        }
        if page.is_empty() {
            return Ok(None);
        }
        Ok(Some(page))
    }
}

/// The statement header: the connection's bank, the account's IBAN and currency, and the
/// booked balances computed from every stored booked entry up to the period's end.
pub(crate) async fn statement(
    store: &dyn Store,
    request: &ExportRequest,
) -> Result<Statement, ExportError> {
    let connection = store
        .connection(&request.connection)
        .await?
        .ok_or_else(|| ExportError::ConnectionNotFound(request.connection.to_string()))?;
    let mut opening: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut period: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut iban = None;
    let mut first_currency: Option<String> = None;
    let mut pages = Pages::over(None, request.to, false);
    while let Some(page) = pages.next(store, request).await? {
        for tx in &page {
            if iban.is_none() {
                iban = tx
                    .transaction
                    .account
                    .as_ref()
                    .and_then(|a| a.iban.as_ref())
                    .map(|i| i.as_str().to_string());
            }
            if first_currency.is_none() {
                first_currency = Some(tx.currency.clone());
            }
            let before = tx.date.is_some_and(|d| d < request.from);
            let sums = if before { &mut opening } else { &mut period };
            add(sums, tx)?;
        }
    }
    let currency = first_currency
        .or_else(|| request.currency.clone())
        .unwrap_or_else(|| "XXX".to_string());
    let mut currencies: Vec<String> = opening.keys().chain(period.keys()).cloned().collect();
    currencies.sort();
    currencies.dedup();
    if !currencies.contains(&currency) {
        currencies.push(currency.clone());
    }
    // The main currency first, the others in code order.
    currencies.sort_by_key(|c| (c != &currency, c.clone()));
    let balances = currencies
        .into_iter()
        .map(|c| {
            let open = opening.get(&c).copied().unwrap_or_default();
            let moved = period.get(&c).copied().unwrap_or_default();
            let closing = open
                .checked_add(moved)
                .ok_or_else(|| ExportError::Invalid {
                    field: "balances.closing",
                    reason: "sum out of range".into(),
                })?;
            Ok(BalanceLine {
                currency: c,
                opening: open,
                closing,
            })
        })
        .collect::<Result<Vec<_>, ExportError>>()?;
    Ok(Statement {
        bank: connection.bank,
        account: request.account.clone(),
        iban,
        currency,
        from: request.from,
        to: request.to,
        created_at: request.created_at,
        balances,
        balances_computed: true,
    })
}

fn add(sums: &mut BTreeMap<String, Decimal>, tx: &StoredTransaction) -> Result<(), ExportError> {
    let sum = sums.entry(tx.currency.clone()).or_default();
    *sum = sum
        .checked_add(tx.amount)
        .ok_or_else(|| ExportError::Invalid {
            field: "balances",
            reason: "sum out of range".into(),
        })?;
    Ok(())
}
