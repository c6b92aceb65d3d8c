//! The frame switch: routing snapshot, per-VM inboxes and the buffer pool.

pub mod delay;
pub mod inbox;
pub mod pool;
pub mod routing;

pub use inbox::{Delivery, DeliveryKind, Inbox, Pushed};
pub use pool::{BufferPool, PoolBuf};
pub use routing::{AddrBinding, Radio, RadioKey, Routing, RoutingTable, VmId};
