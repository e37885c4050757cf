//! The server's in-memory state: one lock per API area.
//!
//! Handlers take a lock, do their work synchronously and let it go; no lock is
//! ever held across an `.await`. An operation that spans areas takes their
//! locks in this fixed order, which rules out deadlocks:
//! users → flows → accounts → stores → logs → tasks → charts.
//!
//! A panic while a lock is held is answered with a 500 and must not make the
//! area unusable, so poisoned locks are entered anyway: every handler leaves
//! its area consistent before it could panic, by checking before it writes.

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::accounts::Accounts;
use crate::charts::Charts;
use crate::clock::Clock;
use crate::config::Config;
use crate::flows::Flows;
use crate::logs::Logs;
use crate::people_tasks::Tasks;
use crate::stores::Stores;
use crate::users::{Keys, Users};

/// Everything one server knows, shared by its handlers.
pub struct AppState {
    /// The settings the server was started with.
    pub config: Config,
    /// The source of every timestamp.
    pub clock: Clock,
    /// The keys that sign and check tokens.
    pub keys: Keys,
    /// Users and their credentials.
    pub users: RwLock<Users>,
    /// Flows, keyed by `flowId`.
    pub flows: RwLock<Flows>,
    /// Accounts and their assignments to components.
    pub accounts: RwLock<Accounts>,
    /// Data stores and their records.
    pub stores: RwLock<Stores>,
    /// Log entries written by component messages.
    pub logs: RwLock<Logs>,
    /// People tasks.
    pub tasks: RwLock<Tasks>,
    /// Insights charts.
    pub charts: RwLock<Charts>,
}

/// The state as handlers receive it.
pub type SharedState = Arc<AppState>;

impl AppState {
    /// Empty state for a server with `config`.
    pub fn new(config: Config) -> Self {
        Self {
            keys: Keys::new(&config.jwt_secret),
            config,
            clock: Clock::new(),
            users: RwLock::default(),
            flows: RwLock::default(),
            accounts: RwLock::default(),
            stores: RwLock::default(),
            logs: RwLock::default(),
            tasks: RwLock::default(),
            charts: RwLock::default(),
        }
    }
}

/// Enters `lock` for reading.
pub fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

/// Enters `lock` for writing.
pub fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}
