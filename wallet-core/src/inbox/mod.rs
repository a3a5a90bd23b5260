//! The citizen's inbox: notifications from registered senders and from the wallet itself.

pub mod benefits;
pub mod notifications;
pub mod smishing;
