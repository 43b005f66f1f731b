# inotify(7) for the tail input: the fd goes on the event loop (loop.add_reader), and one
# read() call returns every pending event as a list, so waking up costs one boundary crossing
# however many files changed (Fluent Bit's tail_fs_inotify.c reads one event per callback).

import os

from libc.errno cimport errno, EAGAIN, EINTR, EINVAL
from libc.stdint cimport uint32_t
from posix.unistd cimport read as _posix_read, close as _posix_close


cdef extern from "<sys/inotify.h>" nogil:
    cdef struct inotify_event:
        int wd
        uint32_t mask
        uint32_t cookie
        uint32_t len
    int inotify_init1(int flags)
    int inotify_add_watch(int fd, const char *pathname, uint32_t mask)
    int inotify_rm_watch(int fd, int wd)
    enum:
        IN_NONBLOCK
        IN_CLOEXEC
        IN_ACCESS
        IN_MODIFY
        IN_ATTRIB
        IN_CLOSE_WRITE
        IN_CLOSE_NOWRITE
        IN_OPEN
        IN_MOVED_FROM
        IN_MOVED_TO
        IN_CREATE
        IN_DELETE
        IN_DELETE_SELF
        IN_MOVE_SELF
        IN_UNMOUNT
        IN_Q_OVERFLOW
        IN_IGNORED
        IN_ONLYDIR
        IN_DONT_FOLLOW
        IN_EXCL_UNLINK
        IN_ISDIR


# One read drains up to this many bytes of events; the loop continues until EAGAIN. 64 KiB
# holds about 4,000 events without names (16 bytes each), the kernel's default queue is 16,384.
cdef enum:
    _INOTIFY_READ_BYTES = 65536


cdef class Inotify:
    """A non-blocking inotify instance: ``add_watch``/``rm_watch``, ``fileno()`` for the loop,
    ``read()`` -> ``[(wd, mask, cookie, name), ...]`` with every pending event (``[]`` if none).

    ``name`` is ``b""`` for events on the watched object itself (file watches).
    """

    cdef int fd
    cdef char buffer[_INOTIFY_READ_BYTES]

    MODIFY = IN_MODIFY
    ATTRIB = IN_ATTRIB
    CLOSE_WRITE = IN_CLOSE_WRITE
    MOVED_FROM = IN_MOVED_FROM
    MOVED_TO = IN_MOVED_TO
    CREATE = IN_CREATE
    DELETE = IN_DELETE
    DELETE_SELF = IN_DELETE_SELF
    MOVE_SELF = IN_MOVE_SELF
    UNMOUNT = IN_UNMOUNT
    Q_OVERFLOW = IN_Q_OVERFLOW
    IGNORED = IN_IGNORED
    ONLYDIR = IN_ONLYDIR
    DONT_FOLLOW = IN_DONT_FOLLOW
    EXCL_UNLINK = IN_EXCL_UNLINK
    ISDIR = IN_ISDIR

    def __cinit__(self):
        self.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(errno, "inotify_init1 failed")

    def __dealloc__(self):
        if self.fd >= 0:
            _posix_close(self.fd)
            self.fd = -1

    def fileno(self) -> int:
        return self.fd

    @property
    def closed(self) -> bool:
        return self.fd < 0

    def close(self) -> None:
        if self.fd >= 0:
            _posix_close(self.fd)
            self.fd = -1

    def add_watch(self, path, uint32_t mask) -> int:
        """Watch ``path`` (str or bytes; symlinks are followed unless DONT_FOLLOW); returns the wd.

        Watching the same inode twice returns the same wd (the kernel merges them).
        """
        cdef bytes encoded = os.fsencode(path)
        cdef int wd
        self._check_open()
        wd = inotify_add_watch(self.fd, encoded, mask)
        if wd < 0:
            raise OSError(errno, f"inotify_add_watch failed: {os.strerror(errno)}", os.fsdecode(encoded))
        return wd

    def rm_watch(self, int wd) -> bool:
        """Stop watching; ``False`` if the kernel already dropped the watch (file gone: EINVAL)."""
        self._check_open()
        if inotify_rm_watch(self.fd, wd) < 0:
            if errno == EINVAL:
                return False
            raise OSError(errno, f"inotify_rm_watch failed: {os.strerror(errno)}")
        return True

    def read(self) -> list:
        """Every event pending now, in kernel order; never blocks."""
        cdef list events = []
        cdef Py_ssize_t got, pos
        cdef inotify_event *event
        cdef const char *name
        cdef Py_ssize_t name_len
        self._check_open()
        while True:
            got = _posix_read(self.fd, self.buffer, _INOTIFY_READ_BYTES)
            if got < 0:
                if errno == EINTR:
                    continue
                if errno == EAGAIN:
                    return events
                raise OSError(errno, f"inotify read failed: {os.strerror(errno)}")
            if got == 0:
                return events
            pos = 0
            while pos + <Py_ssize_t>sizeof(inotify_event) <= got:
                event = <inotify_event *>(self.buffer + pos)
                name = self.buffer + pos + sizeof(inotify_event)
                name_len = 0
                while name_len < event.len and name[name_len] != 0:
                    name_len += 1
                events.append((event.wd, event.mask, event.cookie, name[:name_len]))
                pos += sizeof(inotify_event) + event.len

    cdef int _check_open(self) except -1:
        if self.fd < 0:
            raise ValueError("inotify instance is closed")
        return 0
