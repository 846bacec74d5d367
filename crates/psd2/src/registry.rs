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

use crate::adapters::berlingroup::{BerlinGroup, BerlinGroupConfig};
use crate::api::Bank;
use crate::error::Error;

/// The generic Berlin Group adapter for `entry`, as a `Box<dyn Bank>` (its name is the
/// entry's id). See [`BerlinGroup::new`] for the errors.
pub fn adapter(entry: &RegistryEntry, config: BerlinGroupConfig) -> Result<Box<dyn Bank>, Error> {
    Ok(Box::new(BerlinGroup::new(entry.clone(), config)?))
}
