//! The citizen's inbox: notifications from registered senders and from the wallet itself.
//!
//! Owns: notification payloads and the smishing filter. Imports only `cose`; never `store`,
//! `api` or a credential format.

pub mod notifications;
pub mod smishing;
