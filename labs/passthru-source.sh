# Spec section 11: passthru and source mode, with the switch's hairpin off and
# on. A source-mode macvlan hears only the MACs on its list: the switch
# (br0, 36:50:43:11:71:c0), an unrelated MAC, or its own lower's MAC — with
# a hairpin, the lower's traffic comes back and ns1 hears its parent (one way).


# The tutorial's topology: br0 (192.168.0.1) is the switch, veth11 its port;
# veth12 is the server's NIC, moved to ns3 as eth0 (192.168.0.254); macvlans
# on it live in ns1 (.11) and ns2 (.12).
ip link add name br0 address 36:50:43:11:71:c0 type bridge
ip link add name veth11 type veth peer veth12 address 7e:fc:bf:1f:ce:58
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
ip netns exec ns3 ip link set eth0 up
sleep 1

# only ns1 stays; ns2's macvlan goes, so passthru can take the lower
ip netns exec ns2 ip link del eth0
ip netns exec ns1 ip link del eth0
ip netns exec ns3 ip link add eth0.11 link eth0 type macvlan mode passthru
ip netns exec ns3 ip link set eth0.11 netns ns1
ip netns exec ns1 ip link set eth0.11 name eth0
ip netns exec ns1 ip addr add 192.168.0.11/24 dev eth0
ip netns exec ns1 ip link set eth0 up
# passthru, hairpin off
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
ip netns exec ns3 ping -c 1 -W 1 192.168.0.11   # expect: fail

# passthru, hairpin on
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
ip netns exec ns3 ping -c 1 -W 1 192.168.0.11   # expect: fail

# source, allow-list 36:50:43:11:71:c0, hairpin off
ip netns exec ns1 ip link del eth0
ip netns exec ns3 ip link add eth0.11 link eth0 address 02:00:00:00:00:11 type macvlan mode source macaddr add 36:50:43:11:71:c0
ip netns exec ns3 ip link set eth0.11 netns ns1
ip netns exec ns1 ip link set eth0.11 name eth0
ip netns exec ns1 ip addr add 192.168.0.11/24 dev eth0
ip netns exec ns1 ip link set eth0 up
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
ip netns exec ns3 ping -c 1 -W 1 192.168.0.11   # expect: fail

# source, allow-list 36:50:43:11:71:c0, hairpin on
ip netns exec ns1 ip link del eth0
ip netns exec ns3 ip link add eth0.11 link eth0 address 02:00:00:00:00:11 type macvlan mode source macaddr add 36:50:43:11:71:c0
ip netns exec ns3 ip link set eth0.11 netns ns1
ip netns exec ns1 ip link set eth0.11 name eth0
ip netns exec ns1 ip addr add 192.168.0.11/24 dev eth0
ip netns exec ns1 ip link set eth0 up
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
ip netns exec ns3 ping -c 1 -W 1 192.168.0.11   # expect: fail

# source, allow-list 02:00:00:00:00:99, hairpin off
ip netns exec ns1 ip link del eth0
ip netns exec ns3 ip link add eth0.11 link eth0 address 02:00:00:00:00:11 type macvlan mode source macaddr add 02:00:00:00:00:99
ip netns exec ns3 ip link set eth0.11 netns ns1
ip netns exec ns1 ip link set eth0.11 name eth0
ip netns exec ns1 ip addr add 192.168.0.11/24 dev eth0
ip netns exec ns1 ip link set eth0 up
bridge link set dev veth11 hairpin off
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.1   # expect: fail
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
ip netns exec ns3 ping -c 1 -W 1 192.168.0.11   # expect: fail

# source, allow-list 02:00:00:00:00:99, hairpin on
ip netns exec ns1 ip link del eth0
ip netns exec ns3 ip link add eth0.11 link eth0 address 02:00:00:00:00:11 type macvlan mode source macaddr add 02:00:00:00:00:99
ip netns exec ns3 ip link set eth0.11 netns ns1
ip netns exec ns1 ip link set eth0.11 name eth0
ip netns exec ns1 ip addr add 192.168.0.11/24 dev eth0
ip netns exec ns1 ip link set eth0 up
bridge link set dev veth11 hairpin on
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.1   # expect: fail
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
ip netns exec ns3 ping -c 1 -W 1 192.168.0.11   # expect: fail

# source, allow-list 7e:fc:bf:1f:ce:58, hairpin off
ip netns exec ns1 ip link del eth0
ip netns exec ns3 ip link add eth0.11 link eth0 address 02:00:00:00:00:11 type macvlan mode source macaddr add 7e:fc:bf:1f:ce:58
ip netns exec ns3 ip link set eth0.11 netns ns1
ip netns exec ns1 ip link set eth0.11 name eth0
ip netns exec ns1 ip addr add 192.168.0.11/24 dev eth0
ip netns exec ns1 ip link set eth0 up
bridge link set dev veth11 hairpin off
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.1   # expect: fail
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
ip netns exec ns3 ping -c 1 -W 1 192.168.0.11   # expect: fail

# source, allow-list 7e:fc:bf:1f:ce:58, hairpin on
ip netns exec ns1 ip link del eth0
ip netns exec ns3 ip link add eth0.11 link eth0 address 02:00:00:00:00:11 type macvlan mode source macaddr add 7e:fc:bf:1f:ce:58
ip netns exec ns3 ip link set eth0.11 netns ns1
ip netns exec ns1 ip link set eth0.11 name eth0
ip netns exec ns1 ip addr add 192.168.0.11/24 dev eth0
ip netns exec ns1 ip link set eth0 up
bridge link set dev veth11 hairpin on
ip neigh flush all
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip netns exec ns3 ip neigh flush all
ip link set br0 type bridge fdb_flush
ip netns exec ns1 ping -c 1 -W 1 192.168.0.1   # expect: fail
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
ip netns exec ns3 ping -c 1 -W 1 192.168.0.11   # expect: ok
