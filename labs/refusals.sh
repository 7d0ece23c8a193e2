# iproute2 refuses these words itself: each line fails with ip's own
# message, and the lab goes on.
ip link add p0 type veth peer name p1
ip link add m5 link p0 type macvlan mode nosuchmode        # expect: error
ip link add m5 link p0 type macvlan nopromisc              # expect: error
ip link add m5 link p0 address zz:00:00:00:00:01 type macvlan   # expect: error
ip link add m5 link p0 mtu abc type macvlan                # expect: error
ip link set p0 mtu abc                                     # expect: error
ip link add m5 link p0 type macvlan flag bogus             # expect: error
ip link add m5 link p0 type macvlan bcqueuelen x           # expect: error
ip link add m5 link p0 type macvlan macaddr foo            # expect: error
ip link add m5 link p0 type macvlan bogus                  # expect: error
ip link add m5 link p0                                     # expect: error
ip link set p0 promisc maybe                               # expect: error
ip addr add 10.0.0.1/33 dev p0                             # expect: error
ip link set p0 up garbage                                  # expect: error
ip link del                                                # expect: error
ip neigh add 10.0.0.300 lladdr 02:00:00:00:00:01 dev p0    # expect: error
ip link add m5 link p0 type macvlan mode bridge
ip link show m5
