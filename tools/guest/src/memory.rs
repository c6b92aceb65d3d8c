//! The guest's RAM: one memfd-backed region shared with the device, the way UML shares it.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
use std::ptr::NonNull;

use vhost::VhostUserMemoryRegionInfo;

use crate::Error;

/// Guest physical address of the single memory region.
pub const MEM_BASE: u64 = 0x1_0000;

/// A `MAP_SHARED` mapping of a memfd, addressed by guest physical address.
pub(crate) struct GuestMemory {
    host: NonNull<u8>,
    size: usize,
    file: File,
}

// SAFETY: the mapping is plain shared memory owned by this value; nothing in it is tied to the
// creating thread, and all access goes through `&self`/`&mut self` of the owner.
unsafe impl Send for GuestMemory {}

impl GuestMemory {
    /// Create a zeroed region of `size` bytes (rounded up to a page).
    pub(crate) fn new(size: usize) -> Result<Self, Error> {
        let size = size.next_multiple_of(4096);
        let fd = nix::sys::memfd::memfd_create(
            c"hwsim-guest",
            nix::sys::memfd::MemFdCreateFlag::MFD_CLOEXEC,
        )
        .map_err(|e| Error::io("memfd_create")(e.into()))?;
        // SAFETY: `fd` is a freshly created, owned descriptor; `File` takes over its ownership.
        let file = unsafe { File::from_raw_fd(fd.into_raw_fd()) };
        file.set_len(size as u64).map_err(Error::io("ftruncate"))?;
        // SAFETY: mapping a new shared region of a file we own; the kernel picks the address and
        // the result is checked before use.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(Error::io("mmap")(std::io::Error::last_os_error()));
        }
        let host = NonNull::new(ptr.cast::<u8>()).ok_or_else(|| {
            Error::io("mmap")(std::io::Error::other("kernel returned a null mapping"))
        })?;
        Ok(GuestMemory { host, size, file })
    }

    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// The region as the vhost-user SET_MEM_TABLE entry describes it (user address: our
    /// mapping's).
    #[allow(clippy::needless_update)]
    pub(crate) fn region_info(&self) -> VhostUserMemoryRegionInfo {
        VhostUserMemoryRegionInfo {
            guest_phys_addr: MEM_BASE,
            memory_size: self.size as u64,
            userspace_addr: self.host.as_ptr() as u64,
            mmap_offset: 0,
            mmap_handle: self.file.as_raw_fd(),
            // Fills the fields that exist only with vhost's "xen" feature.
            ..Default::default()
        }
    }

    /// Host pointer to `len` bytes at guest physical `gpa`, or `None` if outside the region.
    pub(crate) fn host_ptr(&self, gpa: u64, len: usize) -> Option<*mut u8> {
        let off = gpa.checked_sub(MEM_BASE)?;
        let end = off.checked_add(len as u64)?;
        if end > self.size as u64 {
            return None;
        }
        // SAFETY: `off + len <= size`, so the result stays inside the mapping.
        Some(unsafe { self.host.as_ptr().add(off as usize) })
    }

    /// The address the frontend process sees for `gpa` (what SET_VRING_ADDR carries).
    pub(crate) fn user_addr(&self, gpa: u64) -> u64 {
        self.host.as_ptr() as u64 + (gpa - MEM_BASE)
    }

    /// Copy `data` into guest memory at `gpa`.
    pub(crate) fn write(&self, gpa: u64, data: &[u8]) -> Result<(), Error> {
        let dst = self.host_ptr(gpa, data.len()).ok_or(Error::OutOfMemory {
            addr: gpa,
            len: data.len(),
        })?;
        // SAFETY: `dst..dst+len` lies inside the mapping (checked above) and cannot overlap
        // `data`, which is a Rust slice outside the mapping or a disjoint part of it.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), dst, data.len()) };
        Ok(())
    }

    /// Copy guest memory at `gpa` into `out`.
    pub(crate) fn read(&self, gpa: u64, out: &mut [u8]) -> Result<(), Error> {
        let src = self.host_ptr(gpa, out.len()).ok_or(Error::OutOfMemory {
            addr: gpa,
            len: out.len(),
        })?;
        // SAFETY: `src..src+len` lies inside the mapping (checked above); `out` is exclusively
        // borrowed private memory.
        unsafe { std::ptr::copy_nonoverlapping(src, out.as_mut_ptr(), out.len()) };
        Ok(())
    }

    /// Fill `len` bytes at `gpa` with `byte`.
    pub(crate) fn fill(&self, gpa: u64, len: usize, byte: u8) -> Result<(), Error> {
        let dst = self
            .host_ptr(gpa, len)
            .ok_or(Error::OutOfMemory { addr: gpa, len })?;
        // SAFETY: the range lies inside the mapping (checked above).
        unsafe { std::ptr::write_bytes(dst, byte, len) };
        Ok(())
    }
}

impl Drop for GuestMemory {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the mapping created in `new`; no reference into it outlives
        // `self` (rings hold raw pointers only and are dropped with the owning `Guest`).
        unsafe { libc::munmap(self.host.as_ptr().cast(), self.size) };
    }
}
