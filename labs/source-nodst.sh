# Source mode with nodst: a catch-all. Frames from the MACs on the list go
# only to the source-mode macvlan; everything else reaches the others as usual.
# And bcqueuelen 0: broadcasts (ARP requests) no longer reach the macvlans of
# that lower, while their unicast still does.

ip link add name br0 address 02:00:00:00:00:fe type bridge
ip addr add 10.3.0.254/24 dev br0
ip link set br0 up
ip netns add srv
ip netns add g1
ip netns add g2
ip netns add peer
ip link add name port type veth peer nic
ip link add name port2 type veth peer p2 address 02:00:00:00:00:77
ip link set port master br0
ip link set port2 master br0
ip link set port up
ip link set port2 up
ip link set p2 netns peer
ip netns exec peer ip addr add 10.3.0.77/24 dev p2
ip netns exec peer ip link set p2 up
ip link set nic netns srv
ip netns exec srv ip link set nic up
ip netns exec srv ip link add g1 link nic address 02:00:00:00:00:01 type macvlan mode bridge
ip netns exec srv ip link add g2 link nic address 02:00:00:00:00:02 type macvlan mode source nodst macaddr add 02:00:00:00:00:77
ip netns exec srv ip link set g1 netns g1
ip netns exec srv ip link set g2 netns g2
ip netns exec g1 ip addr add 10.3.0.1/24 dev g1
ip netns exec g2 ip addr add 10.3.0.2/24 dev g2
ip netns exec g1 ip link set g1 up
ip netns exec g2 ip link set g2 up
sleep 1
# The switch reaches g1; the peer (02:..:77, on g2's list) does not: its
# frames are consumed by g2, even those for g1.
ip netns exec g1 ping -c 1 -W 1 10.3.0.254    # expect: ok
ip netns exec g1 ping -c 1 -W 1 10.3.0.77     # expect: fail
ip netns exec peer ping -c 1 -W 1 10.3.0.1    # expect: fail
# g2 hears the peer and only the peer.
ip netns exec g2 ping -c 1 -W 1 10.3.0.77     # expect: ok
ip netns exec g2 ping -c 1 -W 1 10.3.0.254    # expect: fail
# Without nodst the peer's frames are copied to g2 and still reach g1. (The
# flush forgets g1's earlier, failed attempt: its ARP entry would otherwise
# fail about now, a race with the kernel's timer granularity.)
ip netns exec g2 ip link set g2 type macvlan flag null
ip netns exec g1 ip neigh flush all
ip netns exec g1 ping -c 1 -W 1 10.3.0.77     # expect: ok

# bcqueuelen 0 on every macvlan of the lower: no broadcast reaches them.
ip netns exec g1 ip link set g1 type macvlan bcqueuelen 0
ip netns exec g2 ip link set g2 type macvlan bcqueuelen 0
ip netns exec g1 ip -d link show g1 | grep "usedbcqueuelen 0"
ip neigh flush all
ip netns exec g1 ip neigh flush all
ip netns exec g1 ping -c 1 -W 1 10.3.0.254    # expect: ok
ip neigh flush all
ip netns exec g1 ip neigh flush all
ping -c 1 -W 1 10.3.0.1                       # expect: fail
