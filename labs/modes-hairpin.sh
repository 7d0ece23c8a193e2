# Spec section 11, as observed on Linux 6.18: each mode with the switch's
# hairpin off and on, pinging the switch, the parent (the macvlans' lower),
# the sibling, and back from the parent to ns1. Caches and the switch's FDB
# are flushed before every ping, so each ping starts from nothing.
# Note private with hairpin on: the parent reaches ns1 but not the reverse —
# ns1's ARP requests come back only to ns1 itself.

# The tutorial's topology: br0 (192.168.0.1) is the switch, veth11 its port;
# veth12 is the server's NIC, moved to ns3 as eth0 (192.168.0.254); macvlans
# on it live in ns1 (.11) and ns2 (.12).
ip link add name br0 address 36:50:43:11:71:c0 type bridge
ip link add name veth11 type veth peer veth12
ip link set veth11 master br0
ip addr add 192.168.0.1/24 dev br0
ip link set veth11 up
ip link set br0 up
ip netns add ns1
ip netns add ns2
ip netns add ns3
ip link add veth12.1 link veth12 address 02:00:00:00:00:11 type macvlan mode bridge
ip link add veth12.2 link veth12 address 02:00:00:00:00:12 type macvlan mode bridge
ip link set veth12.1 netns ns1
ip link set veth12.2 netns ns2
ip link set veth12 netns ns3
ip netns exec ns1 ip link set veth12.1 name eth0
ip netns exec ns2 ip link set veth12.2 name eth0
ip netns exec ns3 ip link set veth12 name eth0
ip netns exec ns1 ip addr add 192.168.0.11/24 dev eth0
ip netns exec ns2 ip addr add 192.168.0.12/24 dev eth0
ip netns exec ns3 ip addr add 192.168.0.254/24 dev eth0
ip netns exec ns1 ip link set eth0 up
ip netns exec ns2 ip link set eth0 up
ip netns exec ns3 ip link set eth0 up
sleep 1

# bridge, hairpin off
ip netns exec ns1 ip link set eth0 type macvlan mode bridge
ip netns exec ns2 ip link set eth0 type macvlan mode bridge
bridge link set dev veth11 hairpin off
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.1   # expect: ok
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.254   # expect: fail
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.12   # expect: ok
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns3 ping -c 1 -W 1 192.168.0.11   # expect: fail

# bridge, hairpin on
ip netns exec ns1 ip link set eth0 type macvlan mode bridge
ip netns exec ns2 ip link set eth0 type macvlan mode bridge
bridge link set dev veth11 hairpin on
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.1   # expect: ok
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.254   # expect: ok
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.12   # expect: ok
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns3 ping -c 1 -W 1 192.168.0.11   # expect: ok

# vepa, hairpin off
ip netns exec ns1 ip link set eth0 type macvlan mode vepa
ip netns exec ns2 ip link set eth0 type macvlan mode vepa
bridge link set dev veth11 hairpin off
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.1   # expect: ok
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.254   # expect: fail
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.12   # expect: fail
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns3 ping -c 1 -W 1 192.168.0.11   # expect: fail

# vepa, hairpin on
ip netns exec ns1 ip link set eth0 type macvlan mode vepa
ip netns exec ns2 ip link set eth0 type macvlan mode vepa
bridge link set dev veth11 hairpin on
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.1   # expect: ok
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.254   # expect: ok
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.12   # expect: ok
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns3 ping -c 1 -W 1 192.168.0.11   # expect: ok

# private, hairpin off
ip netns exec ns1 ip link set eth0 type macvlan mode private
ip netns exec ns2 ip link set eth0 type macvlan mode private
bridge link set dev veth11 hairpin off
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.1   # expect: ok
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.254   # expect: fail
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.12   # expect: fail
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns3 ping -c 1 -W 1 192.168.0.11   # expect: fail

# private, hairpin on
ip netns exec ns1 ip link set eth0 type macvlan mode private
ip netns exec ns2 ip link set eth0 type macvlan mode private
bridge link set dev veth11 hairpin on
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.1   # expect: ok
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.254   # expect: fail
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.12   # expect: fail
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns3 ping -c 1 -W 1 192.168.0.11   # expect: ok
