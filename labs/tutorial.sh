# The macvlan tutorial this project grew from ("网卡虚拟化 Macvlan",
# shared/reference/tutorial-macvlan-zh.txt), all five modes, as a lab.
#
# Topology: the bridge br0 (192.168.0.1) is the switch and veth11 its port;
# veth12, the other end of the cable, is the server's NIC. It moves to ns3 as
# eth0 (192.168.0.254). Macvlans on veth12 live in ns1 (.11) and ns2 (.12).
# br0 gets a fixed MAC so that the source-mode allow-list can name it. Pings
# wait one second (-W 1) instead of ping's default ten.

# The switch
ip link add name br0 address 36:50:43:11:71:c0 type bridge
ip link add name veth11 type veth peer veth12
ip link set veth11 master br0
ip addr add 192.168.0.1/24 dev br0
ip link set veth11 up
ip link set veth12 up
ip link set br0 up

# The namespaces
ip netns add ns1
ip netns add ns2
ip netns add ns3
ip netns exec ns1 ip link set lo up
ip netns exec ns2 ip link set lo up
ip netns exec ns3 ip link set lo up

# 1. bridge: macvlans reach each other and the switch, not their parent
ip link add veth12.1 link veth12 type macvlan mode bridge
ip link add veth12.2 link veth12 type macvlan mode bridge
ip link set netns ns1 veth12.1
ip link set netns ns2 veth12.2
ip link set netns ns3 veth12
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
ip netns exec ns1 ping -c 1 -W 1 192.168.0.1      # expect: ok
ip netns exec ns1 ping -c 1 -W 1 192.168.0.254    # expect: fail
ip netns exec ns1 ping -c 1 -W 1 192.168.0.12     # expect: ok
ip netns exec ns1 ip link | grep ether
ip netns exec ns2 ip link | grep ether
bridge fdb

# Cut the cable: veth11 down takes its peer's carrier, and the macvlans' with it
ip link set veth11 down
ip netns exec ns3 ip link show type veth
ip netns exec ns1 ping -c 1 -W 1 192.168.0.12     # expect: fail
ip link set veth11 up
sleep 1
# Cable back; this also refreshes ns1's ARP entry for ns2, used just below
ip netns exec ns1 ping -c 1 -W 1 192.168.0.12     # expect: ok

# 2. vepa: everything goes out to the switch, which does not hairpin.
# The echo requests to ns2 are on the wire: ns1's ARP entry is fresh. (An
# entry that went stale would be probed by unicast, unanswered in vepa, and
# fail; the capture comes first so that a slow machine cannot get there.)
ip netns exec ns1 ip link set eth0 type macvlan mode vepa
ip netns exec ns2 ip link set eth0 type macvlan mode vepa
tcpdump -i veth11 icmp &
ip netns exec ns1 ping -c 3 -W 1 192.168.0.12     # expect: fail
ip netns exec ns1 ping -c 1 -W 1 192.168.0.1      # expect: ok
ip netns exec ns1 ping -c 1 -W 1 192.168.0.254    # expect: fail

# 3. private: no sibling traffic even through a hairpin
ip netns exec ns1 ip link set eth0 type macvlan mode private
ip netns exec ns2 ip link set eth0 type macvlan mode private
ip netns exec ns1 ping -c 1 -W 1 192.168.0.1      # expect: ok
ip netns exec ns1 ping -c 1 -W 1 192.168.0.12     # expect: fail
ip netns exec ns1 ping -c 1 -W 1 192.168.0.254    # expect: fail
# Once the ARP entry is forgotten, ARP requests repeat on the wire. Every
# station forgets, so that no probe of an entry confirmed long ago (its
# lifetime is random, 15 to 45 s) lands in the capture.
ip netns exec ns1 ip neigh flush all
ip netns exec ns2 ip neigh flush all
ip neigh flush all
tcpdump -i veth11 arp &
ip netns exec ns1 ping -c 1 -W 3 192.168.0.12     # expect: fail

# 4. passthru: one macvlan takes over the NIC and its MAC
ip netns exec ns3 ip link | grep ether
ip netns exec ns2 ip link delete eth0
ip netns exec ns1 ip link delete eth0
ip netns exec ns3 ip link add eth0.11 link eth0 type macvlan mode passthru
ip netns exec ns3 ip link set eth0.11 netns ns1
ip netns exec ns1 ip link set eth0.11 name eth0
ip netns exec ns1 ip addr add 192.168.0.11/24 dev eth0
ip netns exec ns1 ip link | grep ether
ip netns exec ns1 ip link set eth0 up
ip netns exec ns1 ping -c 1 -W 1 192.168.0.1      # expect: ok
ip netns exec ns1 ping -c 1 -W 1 192.168.0.254    # expect: fail
# A second macvlan on a passthru NIC is refused
ip netns exec ns3 ip link add eth0.12 link eth0 type macvlan mode bridge   # expect: error

# 5. source: receives only from the MACs on its list (here br0's)
ip netns exec ns1 ip link delete eth0
ip neigh flush all    # br0 forgets the passthru macvlan: no probe of it after 5 s
ip netns exec ns3 ip link add eth0.11 link eth0 type macvlan mode source macaddr add 36:50:43:11:71:c0
ip netns exec ns3 ip link set eth0.11 netns ns1
ip netns exec ns1 ip link set eth0.11 name eth0
ip netns exec ns1 ip addr add 192.168.0.11/24 dev eth0
ip netns exec ns1 ip link | grep ether
ip netns exec ns1 ip link set eth0 up
ip netns exec ns1 ping -c 1 -W 1 192.168.0.1      # expect: ok
ip netns exec ns1 ping -c 1 -W 1 192.168.0.254    # expect: fail
