//! Berlin Group banks as data: the registry of bank files ([`Registry`], from
//! `psd2-registry`) and [`adapter`], which builds the generic adapter for one of them.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use psd2::registry::{Registry, adapter};
//! use psd2::adapters::berlingroup::BerlinGroupConfig;
//! let registry = Registry::embedded()?;
//! let entry = registry.find("SWEDNOKK").ok_or("unknown bank")?;
//! let config = BerlinGroupConfig::new(entry.urls.live.clone());
//! let bank = adapter(entry, config)?; // fails here: this bank requires signatures
//! println!("{}", bank.name());
//! # Ok(()) }
//! ```

pub use psd2_registry::{
    AccountRules, BankProfile, BankUrls, BookingStatusKind, ConsentRules, ConsentScopeKind,
    DateField, ErrorShape, Hook, LocalSandbox, MappedError, Registry, RegistryEntry, RegistryError,
    Requirement, ScaApproachKind, Security, TransactionRules, parse_entry,
};

use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock};

use crate::adapters::berlingroup::{BerlinGroup, BerlinGroupConfig};
use crate::api::Bank;
use crate::error::Error;

/// The generic Berlin Group adapter for `entry`, as a `Box<dyn Bank>` (its name is the
/// entry's id). See [`BerlinGroup::new`] for the errors.
pub fn adapter(entry: &RegistryEntry, config: BerlinGroupConfig) -> Result<Box<dyn Bank>, Error> {
    Ok(Box::new(BerlinGroup::new(entry.clone(), config)?))
}

/// `id` as a `&'static str`, allocated once per distinct id for the life of the process
/// (banks are named with static strings: [`Bank::name`], errors, sync connections). A
/// registry bank's adapter is named with this, so callers naming the same bank share it.
pub fn intern(id: &str) -> &'static str {
    static IDS: OnceLock<Mutex<BTreeSet<&'static str>>> = OnceLock::new();
    let mut ids = crate::adapters::common::sync::lock(IDS.get_or_init(Default::default));
    if let Some(known) = ids.get(id) {
        return known;
    }
    let leaked: &'static str = Box::leak(id.to_owned().into_boxed_str());
    ids.insert(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_id_is_one_static_string() {
        let a = intern("nordbank-intern-test");
        let b = intern(&String::from("nordbank-intern-test"));
        assert!(std::ptr::eq(a, b));
        assert_eq!(a, "nordbank-intern-test");
        assert!(!std::ptr::eq(a, intern("nordbank-intern-other")));
    }
}
