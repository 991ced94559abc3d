"""No network for the SPARQL query workers: a seccomp filter that refuses every non-local socket.

Defence in depth behind the parsed-query check of :mod:`kg.sparql`: even a query that reached Oxigraph with a
``SERVICE`` clause (a parser discrepancy, a future feature) cannot make the worker open a connection, because the
kernel refuses ``socket()`` for every address family but ``AF_UNIX`` (the workers speak to the API over pipes).
``io_uring_setup`` is refused too, since io_uring can create sockets without the ``socket`` system call.

Written against the kernel's interface directly (``seccomp(2)`` through ``ctypes``): the filter is ten BPF
instructions, and the Python bindings of libseccomp need its development package or are unmaintained (see
``docs/decisions/2026-12-07-sparql-sandbox.md``). ``SECCOMP_FILTER_FLAG_TSYNC`` applies it to every thread of the
process, including those a library has already started.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import platform
import struct
import sys

from kg.errors import StoreError

# architecture -> (AUDIT_ARCH_*, __NR_socket, __NR_seccomp)
_ARCHES = {
    "x86_64": (0xC000003E, 41, 317),
    "aarch64": (0xC00000B7, 198, 277),
}
_NR_IO_URING_SETUP = 425  # the same number on both architectures
_X32_SYSCALL_BIT = 0x40000000  # x86_64's x32 ABI: a second set of numbers, refused wholesale
_AF_UNIX = 1

_BPF_LD_W_ABS = 0x20
_BPF_JEQ_K = 0x15
_BPF_JGE_K = 0x35
_BPF_RET_K = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000

_PR_SET_NO_NEW_PRIVS = 38
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_FILTER_FLAG_TSYNC = 1

# offsets in struct seccomp_data: nr (u32), arch (u32), instruction_pointer (u64), args[6] (u64, little endian)
_NR, _ARCH, _ARG0 = 0, 4, 16


def _instruction(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def network_filter(arch: int, nr_socket: int) -> bytes:
    """The BPF program: refuse (EACCES) non-AF_UNIX sockets, io_uring, foreign ABIs; allow the rest."""
    deny = _RET_ERRNO | errno.EACCES
    program = [
        _instruction(_BPF_LD_W_ABS, 0, 0, _ARCH),  # 0
        _instruction(_BPF_JEQ_K, 0, 7, arch),  # 1: another ABI (e.g. 32-bit int 0x80) -> 9
        _instruction(_BPF_LD_W_ABS, 0, 0, _NR),  # 2
        _instruction(_BPF_JGE_K, 5, 0, _X32_SYSCALL_BIT),  # 3: x32 numbers -> 9
        _instruction(_BPF_JEQ_K, 4, 0, _NR_IO_URING_SETUP),  # 4: -> 9
        _instruction(_BPF_JEQ_K, 0, 2, nr_socket),  # 5: not socket() -> 8
        _instruction(_BPF_LD_W_ABS, 0, 0, _ARG0),  # 6: the address family
        _instruction(_BPF_JEQ_K, 0, 1, _AF_UNIX),  # 7: AF_UNIX -> 8, else -> 9
        _instruction(_BPF_RET_K, 0, 0, _RET_ALLOW),  # 8
        _instruction(_BPF_RET_K, 0, 0, deny),  # 9
    ]
    return b"".join(program)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def forbid_network() -> None:
    """Make this process unable to open any network socket, for good (all threads, children included).

    Raises :class:`StoreError` where the kernel interface is missing (not Linux, another architecture, seccomp
    disabled): a query worker must not run without it.
    """
    machine = platform.machine().lower()
    if not sys.platform.startswith("linux") or machine not in _ARCHES:
        raise StoreError(f"isolement réseau des requêtes SPARQL indisponible sur {sys.platform}/{machine}")
    arch, nr_socket, nr_seccomp = _ARCHES[machine]
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    program = network_filter(arch, nr_socket)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise StoreError(f"isolement réseau impossible (prctl) : {errno.errorcode.get(ctypes.get_errno(), '?')}")
    if libc.syscall(nr_seccomp, _SECCOMP_SET_MODE_FILTER, _SECCOMP_FILTER_FLAG_TSYNC, ctypes.byref(fprog)) != 0:
        raise StoreError(f"isolement réseau impossible (seccomp) : {errno.errorcode.get(ctypes.get_errno(), '?')}")
