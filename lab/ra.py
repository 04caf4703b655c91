"""An IPv6 router advertisement on a tap device, for iPXE's sake.

    python3 -m lab.ra IFNAME      (inside a namespace; runs until killed)

iPXE configures IPv6 alongside DHCP and boots only when both are done:
on a network without an IPv6 router it waits about 13 s for an answer to
its router solicitations.  QEMU's user networking answers them, so this
does the same for a namespace (lab.netboot starts it as a server).  The
advertisement has router lifetime 0 (not a default router) and no
prefix: nothing is configured by it, it only ends iPXE's wait.
"""

import socket
import struct
import sys
import time


def responder(ifname, interval=0.25):
    """Send an empty advertisement on @ifname every @interval seconds,
    forever."""
    ra = struct.pack("!BBHBBHII", 134, 0, 0, 0, 0, 0, 0, 0)
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW,
                      socket.getprotobyname("ipv6-icmp"))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE,
                 ifname.encode())
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    index = socket.if_nametoindex(ifname)
    while True:
        try:  # fails until the tap has carrier and a link-local address
            s.sendto(ra, ("ff02::1", 0, 0, index))
        except OSError:
            pass
        time.sleep(interval)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 -m lab.ra IFNAME")
    responder(sys.argv[1])
