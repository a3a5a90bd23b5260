//! Government documents the wallet holds besides mobile IDs: electronic certificates, and
//! bills from registered senders (with the signed-payload check they share with notices).

pub mod bills;
pub mod certificates;
pub mod consent;
pub mod signed;
