# Spoofed MACs against private and source mode, on a switch that hairpins
# (it sends every frame of the port back out of it: the worst case for
# isolation).
#
# A macvlan sends with the MAC it has (the stack writes the device's own
# address), so a sibling spoofs by taking another MAC and an outside host by
# changing its NIC's. Private mode tells siblings by the MACs the port knows;
# source mode hears the MACs on its list, whoever has them.

ip link add name br0 address 02:00:00:00:00:fe type bridge
ip addr add 10.4.0.254/24 dev br0
ip link set br0 up
ip netns add srv
ip netns add p1
ip netns add b2
ip netns add s3
ip netns add peer
ip netns add ext
ip link add name port type veth peer nic
ip link add name port2 type veth peer p2 address 02:00:00:00:00:77
ip link add name port3 type veth peer e3 address 02:00:00:00:00:88
ip link set port master br0
ip link set port2 master br0
ip link set port3 master br0
ip link set port up
ip link set port2 up
ip link set port3 up
bridge link set dev port hairpin on
ip link set p2 netns peer
ip link set e3 netns ext
ip netns exec peer ip addr add 10.4.0.77/24 dev p2
ip netns exec ext ip addr add 10.4.0.88/24 dev e3
ip netns exec peer ip link set p2 up
ip netns exec ext ip link set e3 up
ip link set nic netns srv
ip netns exec srv ip link set nic up
ip netns exec srv ip link add p1 link nic address 02:00:00:00:00:01 type macvlan mode private
ip netns exec srv ip link add b2 link nic address 02:00:00:00:00:02 type macvlan mode bridge
ip netns exec srv ip link add s3 link nic address 02:00:00:00:00:03 type macvlan mode source macaddr add 02:00:00:00:00:77
ip netns exec srv ip link set p1 netns p1
ip netns exec srv ip link set b2 netns b2
ip netns exec srv ip link set s3 netns s3
ip netns exec p1 ip addr add 10.4.0.1/24 dev p1
ip netns exec b2 ip addr add 10.4.0.2/24 dev b2
ip netns exec s3 ip addr add 10.4.0.3/24 dev s3
ip netns exec p1 ip link set p1 up
ip netns exec b2 ip link set b2 up
ip netns exec s3 ip link set s3 up
sleep 1

# Private: the switch and outside hosts reach p1; its sibling b2 does not,
# although the switch returns b2's ARP request: the port knows b2's MAC.
ip netns exec p1 ping -c 1 -W 1 10.4.0.254                   # expect: ok
ip netns exec peer ping -c 1 -W 1 10.4.0.1                   # expect: ok
ip netns exec b2 ping -c 1 -W 1 10.4.0.1                     # expect: fail
# b2 takes a MAC the port has never seen: the port knows it as b2's.
ip netns exec b2 ip link set b2 address 02:00:00:00:00:99
ip netns exec b2 ping -c 1 -W 1 10.4.0.1                     # expect: fail
# Nor can b2 take p1's own MAC.
ip netns exec b2 ip link set b2 address 02:00:00:00:00:01    # expect: error
# Private mode stops floods, not unicast: with each other's addresses
# written in by hand no ARP is needed, and the switch returns b2's unicast.
ip netns exec b2 ip neigh replace 10.4.0.1 lladdr 02:00:00:00:00:01 dev b2
ip netns exec p1 ip neigh replace 10.4.0.2 lladdr 02:00:00:00:00:99 dev p1
ip netns exec b2 ping -c 1 -W 1 10.4.0.1                     # expect: ok
ip netns exec b2 ip neigh add 10.4.0.1 lladdr 02:00:00:00:00:01 dev b2   # expect: error
# A switch that does not hairpin keeps them apart.
bridge link set dev port hairpin off
ip netns exec b2 ping -c 1 -W 1 10.4.0.1                     # expect: fail
# Flushing keeps permanent entries; deleting removes them, and ARP is back
# (and fails, as before).
ip netns exec b2 ip neigh flush all
bridge link set dev port hairpin on
ip netns exec b2 ping -c 1 -W 1 10.4.0.1                     # expect: ok
ip netns exec b2 ip neigh del 10.4.0.1 dev b2
ip netns exec b2 ip neigh del 10.4.0.1 dev b2                # expect: error
ip netns exec b2 ping -c 1 -W 1 10.4.0.1                     # expect: fail

# Source: s3 hears the peer (02:00:00:00:00:77, on its list) and no one else.
ip netns exec s3 ping -c 1 -W 1 10.4.0.77                    # expect: ok
ip netns exec s3 ping -c 1 -W 1 10.4.0.88                    # expect: fail
ip netns exec s3 ping -c 1 -W 1 10.4.0.254                   # expect: fail
# The peer gives the MAC up: s3 no longer hears it.
ip netns exec peer ip link set p2 address 02:00:00:00:00:78
ip netns exec s3 ip neigh flush all
ip netns exec s3 ping -c 1 -W 1 10.4.0.77                    # expect: fail
# Another host takes it: now s3 hears that one. The list is of MACs.
ip netns exec ext ip link set e3 address 02:00:00:00:00:77
ip netns exec s3 ip neigh flush all
ip netns exec ext ip neigh flush all
ip netns exec s3 ping -c 1 -W 1 10.4.0.88                    # expect: ok
