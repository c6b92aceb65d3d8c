//! State shared by every VM thread: the routing snapshot, the buffer pool, the medium, and the
//! registry of connected VMs (control plane only; the data path never touches its lock).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::counters::{MalformedCounters, VmCounters};
use crate::medium::Medium;
use crate::switch::{BufferPool, Inbox, Radio, RoutingTable, VmId};

/// Sizes of the bounded queues and pools.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Deliveries waiting for one VM's RX buffers.
    pub inbox_capacity: usize,
    /// TX statuses waiting for one VM's RX buffers.
    pub status_capacity: usize,
    /// Message buffers in the whole daemon.
    pub pool_buffers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            inbox_capacity: 4096,
            status_capacity: 1024,
            pool_buffers: 8192,
        }
    }
}

/// One connected VM as the rest of the daemon sees it.
pub struct VmShared {
    /// Connection-scoped id.
    pub id: VmId,
    /// Where other VMs put deliveries for it.
    pub inbox: Arc<Inbox>,
    /// Its counters.
    pub counters: VmCounters,
    /// Parse errors by name.
    pub malformed: MalformedCounters,
    /// When it connected.
    pub connected_at: Instant,
}

/// The daemon's shared state.
pub struct Core {
    /// Routing snapshot.
    pub routing: RoutingTable,
    /// Message buffers.
    pub pool: Arc<BufferPool>,
    /// The medium deciding every frame's fate.
    pub medium: Arc<dyn Medium>,
    /// Queue sizes.
    pub limits: Limits,
    vms: Mutex<BTreeMap<VmId, Arc<VmShared>>>,
    /// VMs that disconnected, with their final counters (for reports).
    gone: Mutex<Vec<Arc<VmShared>>>,
    /// Radios of VMs that disconnected, with their final counters.
    gone_radios: Mutex<Vec<Arc<Radio>>>,
    next_vm: AtomicU32,
}

impl Core {
    /// A core with the given medium and limits.
    pub fn new(medium: Arc<dyn Medium>, limits: Limits) -> Arc<Self> {
        Arc::new(Core {
            routing: RoutingTable::default(),
            pool: BufferPool::new(limits.pool_buffers),
            medium,
            limits,
            vms: Mutex::new(BTreeMap::new()),
            gone: Mutex::new(Vec::new()),
            gone_radios: Mutex::new(Vec::new()),
            next_vm: AtomicU32::new(1),
        })
    }

    /// State for a VM about to connect (not yet listed).
    pub fn new_vm(&self) -> std::io::Result<Arc<VmShared>> {
        let id = self.next_vm.fetch_add(1, Ordering::Relaxed);
        Ok(Arc::new(VmShared {
            id,
            inbox: Inbox::new(self.limits.inbox_capacity)?,
            counters: VmCounters::default(),
            malformed: MalformedCounters::default(),
            connected_at: Instant::now(),
        }))
    }

    /// Lists a connected VM.
    pub fn register_vm(&self, vm: &Arc<VmShared>) {
        self.vms
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(vm.id, Arc::clone(vm));
    }

    /// Forgets a VM: its radios leave the routing table, its queued deliveries are freed.
    pub fn remove_vm(&self, id: VmId) {
        let leaving: Vec<Arc<Radio>> = self
            .routing
            .load()
            .radios
            .iter()
            .filter(|r| r.key.vm == id)
            .cloned()
            .collect();
        self.routing.remove_vm(id);
        self.gone_radios
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(leaving);
        let vm = self
            .vms
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        if let Some(vm) = vm {
            while vm.inbox.pop().is_some() {}
            self.gone.lock().unwrap_or_else(|e| e.into_inner()).push(vm);
        }
    }

    /// Connected VMs.
    pub fn vms(&self) -> Vec<Arc<VmShared>> {
        self.vms
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Radios of VMs that have disconnected.
    pub fn gone_radios(&self) -> Vec<Arc<Radio>> {
        self.gone_radios
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// VMs that have disconnected.
    pub fn gone_vms(&self) -> Vec<Arc<VmShared>> {
        self.gone.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
